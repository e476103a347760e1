# Semgrep test target for policies/semgrep/secrets-logging.yaml (deliberately insecure snippets).
import logging
import os

import decouple
import sentry_sdk
import structlog

logger = logging.getLogger(__name__)
log = structlog.get_logger()


def charge(card_number, customer_id, cvv, amount):
    # ruleid: logging-secret
    logger.info("charging card %s for customer %s", card_number, customer_id)
    # ruleid: logging-secret
    logger.debug(f"cvv={cvv} amount={amount}")
    # ok: logging-secret
    logger.info("charging card ending %s for customer %s", card_number[-4:], customer_id)
    # ok: logging-secret
    logger.info("charging customer %s amount %s", customer_id, amount)


def call_api(api_token, user, request, max_tokens, secret_name):
    # ruleid: logging-secret
    log.debug("using api token %s", api_token)
    # ruleid: logging-secret
    logging.warning("login failed for %s with password %s", user.email, user.password)
    # ruleid: logging-secret
    logger.error("bad auth header: " + request.headers["Authorization"])
    # ruleid: logging-secret
    log.info("user_login", username=user.name, password=user.password)
    # ruleid: logging-secret
    logging.getLogger("audit").info("ssn on file: {}".format(user.ssn))
    # ok: logging-secret
    logger.info("token length %d, max_tokens=%d", len(api_token), max_tokens)
    # ok: logging-secret
    logger.info("fetching secret %s", secret_name)
    # ok: logging-secret
    logger.info("api token present: %s", mask(api_token))
    # ok: logging-secret
    log.info("user_login", username=user.name, exc_info=True)
    # ok: logging-secret
    logging.debug(f"secret filtered in {user.secret.filename} line {user.secret.line_number}")


def mask(value):
    return value[:2] + "***"


# ruleid: hardcoded-credential-default
DB_PASSWORD = os.environ.get("DB_PASSWORD", "postgres-dev-pass")
# ruleid: hardcoded-credential-default
STRIPE_KEY = os.getenv("STRIPE_API_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc")
# ruleid: hardcoded-credential-default
JWT_SECRET = os.environ.get("JWT_SECRET") or "dev-jwt-secret"
# ruleid: hardcoded-credential-default
SECRET_KEY = decouple.config("DJANGO_SECRET_KEY", default="insecure-dev-key")
# ruleid: hardcoded-credential-default
DATABASE_URL = os.getenv("DATABASE_URL", "postgresql://app:s3cr3t@db:5432/app")
# ok: hardcoded-credential-default
DB_PASSWORD_OK = os.environ["DB_PASSWORD"]
# ok: hardcoded-credential-default
DB_PASSWORD_EMPTY = os.environ.get("DB_PASSWORD", "")
# ok: hardcoded-credential-default
TOKEN_TTL = os.environ.get("TOKEN_TTL_SECONDS", "3600")
# ok: hardcoded-credential-default
KEY_ID = os.getenv("SIGNING_KEY_ID", "k1")
# ok: hardcoded-credential-default
DATABASE_URL_OK = os.getenv("DATABASE_URL", "postgresql://db:5432/app")
# ok: hardcoded-credential-default
REDIS_HOST = os.getenv("REDIS_HOST", "localhost")
# ok: hardcoded-credential-default
TEAM = os.environ.get("DETECT_SECRETS_SECURITY_TEAM", "in #security")
# ok: hardcoded-credential-default
CACHE_KEY = os.environ.get("CACHE_KEY", "v1")

# ruleid: sentry-send-default-pii
sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], send_default_pii=True, traces_sample_rate=0.1)
# ruleid: sentry-send-default-pii
sentry_sdk.init(os.environ["SENTRY_DSN"], environment="prod", send_default_pii=True)
# ok: sentry-send-default-pii
sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], send_default_pii=False)
