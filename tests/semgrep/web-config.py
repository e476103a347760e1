# Semgrep test target for policies/semgrep/web-config.yaml (deliberately insecure snippets).
# The module mixes a Django settings module (it defines INSTALLED_APPS) with Flask/FastAPI code.
import os

import environ
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from flask import Flask, make_response
from flask_cors import CORS, cross_origin
from flask_wtf.csrf import CSRFProtect
from starlette.applications import Starlette
from starlette.middleware import Middleware

env = environ.Env()

# --- Django settings -------------------------------------------------------------------------
# ruleid: django-debug-enabled
DEBUG = True
# ruleid: django-debug-enabled
DEBUG = env.bool("DJANGO_DEBUG", default=True)
# ruleid: django-debug-enabled
DEBUG = os.environ.get("DJANGO_DEBUG", "True") == "True"
# ok: django-debug-enabled
DEBUG = False
# ok: django-debug-enabled
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# ok: django-debug-enabled
DEBUG = os.environ.get("DJANGO_DEBUG", "false").lower() == "true"

# ruleid: django-allowed-hosts-wildcard
ALLOWED_HOSTS = ["*"]
# ruleid: django-allowed-hosts-wildcard
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "*").split(",")
# ok: django-allowed-hosts-wildcard
ALLOWED_HOSTS = ["shop.example.com", ".example.com"]

INSTALLED_APPS = ["django.contrib.auth", "corsheaders"]
ROOT_URLCONF = "shop.urls"

# ruleid: cors-wildcard-origin
CORS_ALLOW_ALL_ORIGINS = True
# ruleid: cors-wildcard-origin
CORS_ORIGIN_ALLOW_ALL = True
# ok: cors-wildcard-origin
CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]

# ruleid: insecure-session-cookie
SESSION_COOKIE_SECURE = False
# ruleid: insecure-session-cookie
CSRF_COOKIE_SECURE = False
# ok: insecure-session-cookie
SESSION_COOKIE_HTTPONLY = True


# --- Flask -----------------------------------------------------------------------------------
app = Flask(__name__)
# ruleid: cors-wildcard-origin
CORS(app, origins="*", supports_credentials=True)
# ruleid: cors-wildcard-origin
CORS(app, resources={r"/api/*": {"origins": "*"}})
# ruleid: cors-wildcard-origin
CORS(app, supports_credentials=True)
# ok: cors-wildcard-origin
CORS(app, origins=["https://shop.example.com"], supports_credentials=True)
# ok: cors-wildcard-origin
CORS(app, resources={r"/api/*": {"origins": ["https://shop.example.com"]}})

# ruleid: flask-secret-key-hardcoded
app.secret_key = "dev-secret-please-change"
# ruleid: flask-secret-key-hardcoded
app.config["SECRET_KEY"] = b"\x8f\x11dev"
# ruleid: flask-secret-key-hardcoded
app.config.update(SECRET_KEY="hunter2", SESSION_COOKIE_NAME="sid")
# ok: flask-secret-key-hardcoded
app.secret_key = os.environ["FLASK_SECRET_KEY"]
# ok: flask-secret-key-hardcoded
app.config["SECRET_KEY"] = os.urandom(32)

# ruleid: insecure-session-cookie
app.config["SESSION_COOKIE_HTTPONLY"] = False
# ruleid: insecure-session-cookie
app.config.update(SESSION_COOKIE_SECURE=False)
# ok: insecure-session-cookie
app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_SAMESITE="Lax")

# ruleid: csrf-disabled
app.config["WTF_CSRF_ENABLED"] = False
# ok: csrf-disabled
app.config["WTF_CSRF_ENABLED"] = True
# ruleid: csrf-disabled
app.config.update(WTF_CSRF_ENABLED=False)
csrf = CSRFProtect(app)

# ruleid: flask-debug-config-enabled
app.debug = True
# ruleid: flask-debug-config-enabled
app.config["DEBUG"] = True
# ruleid: flask-debug-config-enabled
os.environ["FLASK_DEBUG"] = "1"
# ok: flask-debug-config-enabled
app.config["DEBUG"] = os.environ.get("FLASK_DEBUG") == "1"


class ProductionConfig:
    # ruleid: csrf-disabled
    WTF_CSRF_ENABLED = False
    # ruleid: insecure-session-cookie
    REMEMBER_COOKIE_SECURE = False
    # ruleid: insecure-session-cookie
    SESSION_COOKIE_HTTPONLY = False
    # ruleid: csrf-disabled
    CSRF_ENABLED = False


class TestingConfig:
    # ok: csrf-disabled
    WTF_CSRF_ENABLED = False
    # ok: insecure-session-cookie
    SESSION_COOKIE_SECURE = False


@app.route("/api/public")
# ruleid: cors-wildcard-origin
@cross_origin(origins=["*"])
def public_api():
    return "{}"


# ruleid: csrf-disabled
@csrf.exempt
@app.post("/webhooks/stripe")
def stripe_webhook():
    return ""


@app.get("/login")
def login():
    resp = make_response("ok")
    # ruleid: insecure-session-cookie
    resp.set_cookie("session_token", "abc")
    # ruleid: insecure-session-cookie
    resp.set_cookie("auth", "abc", secure=True)
    # ruleid: insecure-session-cookie
    resp.set_cookie("theme", "dark", secure=False)
    # ok: insecure-session-cookie
    resp.set_cookie("session_token", "abc", secure=True, httponly=True, samesite="Lax")
    # ok: insecure-session-cookie
    resp.set_cookie("theme", "dark")
    # ok: insecure-session-cookie
    resp.set_cookie("XSRF-TOKEN", "abc", secure=True, httponly=False, samesite="Strict")
    return resp


# --- Django views ----------------------------------------------------------------------------
# ruleid: csrf-disabled
@csrf_exempt
def payment_callback(request):
    return None


# ruleid: csrf-disabled
@method_decorator(csrf_exempt, name="dispatch")
class ApiView(View):
    pass


# --- FastAPI / Starlette -----------------------------------------------------------------------
# ruleid: fastapi-debug-enabled
api = FastAPI(title="shop", debug=True)
# ok: fastapi-debug-enabled
api_ok = FastAPI(title="shop", debug=os.environ.get("API_DEBUG") == "1")
# ruleid: fastapi-debug-enabled
api_ok.debug = True
# ruleid: fastapi-debug-enabled
star = Starlette(debug=True)

# ruleid: cors-wildcard-origin
api.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
# ruleid: cors-wildcard-origin
middleware = [Middleware(CORSMiddleware, allow_origin_regex=".*")]
# ok: cors-wildcard-origin
api_ok.add_middleware(CORSMiddleware, allow_origins=["https://shop.example.com"])
