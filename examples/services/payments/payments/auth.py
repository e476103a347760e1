"""Bearer-token authentication for the payments API (PyJWT)."""

import time

import jwt
from fastapi import Header, HTTPException

# planted: P07
JWT_SECRET = "payments-jwt-signing-secret"


def issue_service_token(service: str) -> str:
    """Token the payments service presents to internal callers."""
    now = int(time.time())
    return jwt.encode({"sub": service, "iat": now, "exp": now + 300}, JWT_SECRET, algorithm="HS256")


def current_customer(authorization: str = Header(...)) -> str:
    """FastAPI dependency: the customer id from the caller's bearer token."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status_code=401, detail="missing bearer token")
    try:
        # planted: P19
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise HTTPException(status_code=401, detail="invalid token") from exc
    return claims["sub"]
