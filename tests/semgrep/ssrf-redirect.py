# Semgrep test target for policies/semgrep/ssrf-redirect.yaml (deliberately insecure snippets).
import urllib.request
from urllib.parse import urljoin

import httpx
import requests
from django.http import HttpResponseRedirect
from django.shortcuts import redirect as django_redirect
from django.utils.http import url_has_allowed_host_and_scheme
from flask import Flask, abort, redirect, request, url_for

app = Flask(__name__)
ALLOWED_WEBHOOK_HOSTS = {"hooks.example.com"}


@app.post("/webhook/test")
def webhook_test():
    payload = {"ping": True}
    url = request.args.get("callback_url")
    # ruleid: ssrf-user-controlled-url
    requests.post(url, json=payload, timeout=5)
    return "ok"


@app.post("/fetch")
def fetch_preview():
    data = request.get_json()
    target = data["image_url"]
    # ruleid: ssrf-user-controlled-url
    resp = httpx.get(target, timeout=5)
    # ruleid: ssrf-user-controlled-url
    body = urllib.request.urlopen(request.form["feed"]).read()
    # ruleid: ssrf-user-controlled-url
    r2 = requests.request("GET", urljoin("https://api.example.com/", request.values["path"]))
    return resp.text + body.decode() + r2.text


@app.get("/proxy")
def proxy():
    with httpx.Client(timeout=5) as client:
        # ruleid: ssrf-user-controlled-url
        upstream = client.get(request.headers["X-Upstream"])
    return upstream.text


def django_view(request):
    session = requests.Session()
    # ruleid: ssrf-user-controlled-url
    return session.get(request.GET.get("url"), timeout=3).text


@app.get("/safe")
def safe_fetches():
    item_id = request.args["id"]
    # ok: ssrf-user-controlled-url
    a = requests.get("https://api.example.com/items/" + item_id, timeout=5)
    # ok: ssrf-user-controlled-url
    b = requests.get(f"https://api.example.com/items/{item_id}", timeout=5)
    # ok: ssrf-user-controlled-url
    c = requests.post("https://hooks.example.com/notify", json=request.get_json(), timeout=5)
    url = request.args.get("callback_url")
    if not is_allowed_webhook_url(url):
        abort(400)
    # ok: ssrf-user-controlled-url
    d = requests.post(url, json={}, timeout=5)
    return a.text + b.text + c.text + d.text


def is_allowed_webhook_url(url):
    return url.startswith("https://hooks.example.com/")


@app.get("/login/done")
def login_done():
    nxt = request.args.get("next")
    # ruleid: open-redirect-user-input
    return redirect(nxt)


@app.get("/go")
def go():
    # ruleid: open-redirect-user-input
    return redirect(request.args["to"] or "/")


@app.get("/back")
def back():
    # ruleid: open-redirect-user-input
    return redirect(request.referrer)


def django_next(request):
    target = request.POST.get("next", "/")
    # ruleid: open-redirect-user-input
    return HttpResponseRedirect(target)


def django_next_checked(request):
    target = request.GET.get("next", "/")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        # ok: open-redirect-user-input
        return django_redirect(target)
    return django_redirect("/")


@app.get("/continue")
def continue_to():
    target = validate_redirect_url(request.args["next"])
    # ok: open-redirect-user-input
    return redirect(target)


def validate_redirect_url(url):
    return url if url.startswith("/") and not url.startswith("//") else "/"


@app.get("/profile")
def profile_redirect():
    user_id = request.args["user"]
    # ok: open-redirect-user-input
    a = redirect(url_for("profile", user_id=user_id))
    # ok: open-redirect-user-input
    b = redirect(f"/users/{user_id}")
    # ok: open-redirect-user-input
    c = redirect("/dashboard")
    return a or b or c
