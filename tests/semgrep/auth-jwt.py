# Semgrep test target for policies/semgrep/auth-jwt.yaml (deliberately insecure snippets).
import os

import jwt
from flask import Flask, request
from jose import jwt as jose_jwt

app = Flask(__name__)
JWT_KEY = os.environ["JWT_KEY"]


def current_user(token):
    # ruleid: jwt-decode-without-verification
    claims = jwt.decode(token, options={"verify_signature": False})
    opts = {"verify_signature": False, "verify_exp": True}
    # ruleid: jwt-decode-without-verification
    claims2 = jwt.decode(token, JWT_KEY, algorithms=["HS256"], options=opts)
    # ruleid: jwt-decode-without-verification
    legacy = jwt.decode(token, verify=False)
    # ruleid: jwt-decode-without-verification
    none_alg = jwt.decode(token, JWT_KEY, algorithms=["HS256", "none"])
    # ruleid: jwt-decode-without-verification
    jose_claims = jose_jwt.get_unverified_claims(token)
    # ok: jwt-decode-without-verification
    verified = jwt.decode(token, JWT_KEY, algorithms=["HS256"])
    # ok: jwt-decode-without-verification
    verified2 = jwt.decode(token, JWT_KEY, algorithms=["RS256"], options={"require": ["exp"]})
    # ok: jwt-decode-without-verification
    header = jwt.get_unverified_header(token)
    return claims, claims2, legacy, none_alg, jose_claims, verified, verified2, header


def issue(user_id):
    # ruleid: jwt-hardcoded-secret
    token = jwt.encode({"sub": user_id}, "super-secret-signing-key", algorithm="HS256")
    # ruleid: jwt-hardcoded-secret
    claims = jwt.decode(token, key=b"super-secret-signing-key", algorithms=["HS256"])
    # ok: jwt-hardcoded-secret
    token2 = jwt.encode({"sub": user_id}, JWT_KEY, algorithm="HS256")
    # ok: jwt-hardcoded-secret
    token3 = jwt.encode({"sub": user_id}, os.environ["JWT_KEY"], algorithm="HS256")
    return token, claims, token2, token3


# ruleid: jwt-hardcoded-secret
app.config["JWT_SECRET_KEY"] = "change-me-in-prod"
# ok: jwt-hardcoded-secret
app.config["JWT_SECRET_KEY"] = os.environ["JWT_SECRET_KEY"]


def unsigned(user_id):
    # ruleid: jwt-none-algorithm
    a = jwt.encode({"sub": user_id}, None, algorithm="none")
    # ruleid: jwt-none-algorithm
    b = jwt.encode({"sub": user_id}, "", "None")
    # ok: jwt-none-algorithm
    c = jwt.encode({"sub": user_id}, JWT_KEY, algorithm="HS256")
    return a, b, c


class User:
    objects = None


class UserCreate:
    pass


@app.post("/users")
def create_user(db):
    # ruleid: mass-assignment-request-json
    user = User(**request.json)
    data = request.get_json()
    # ruleid: mass-assignment-request-json
    user2 = User(**data)
    # ruleid: mass-assignment-request-json
    for key, value in request.json.items():
        setattr(user, key, value)
    # ok: mass-assignment-request-json
    payload = UserCreate(**request.json)
    # ok: mass-assignment-request-json
    user3 = User(name=data["name"], email=data["email"])
    allowed = {k: data[k] for k in ("name", "email") if k in data}
    # ok: mass-assignment-request-json
    user4 = User(**allowed)
    return user, user2, payload, user3, user4


def django_create(request):
    # ruleid: mass-assignment-request-json
    return User.objects.create(**request.POST.dict())


def update_profile(user, query):
    # one case per request-body shape the rule spells out (plain attribute, converted, get_json())
    # ruleid: mass-assignment-request-json
    query.filter(User.id == user.id).update(request.form.to_dict())
    # ruleid: mass-assignment-request-json
    user.__dict__.update(request.get_json(silent=True))
    # ruleid: mass-assignment-request-json
    User.objects.update_or_create(id=user.id, defaults=request.POST)
    # ruleid: mass-assignment-request-json
    User(**request.get_json(
        force=True))
    form = request.form.to_dict()
    # ruleid: mass-assignment-request-json
    User.objects.filter(id=user.id).update(**form)
    # ok: mass-assignment-request-json
    User(**request.args)
    # ok: mass-assignment-request-json
    User(**request.json.get("profile", {}))
    # ok: mass-assignment-request-json
    User(**request.form.copy())
    args = request.args
    # ok: mass-assignment-request-json
    User(**args)
