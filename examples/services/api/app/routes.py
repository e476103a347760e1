"""HTTP routes of the orders API."""

import base64
# planted: P04
import pickle

import requests
import yaml
from flask import Blueprint, jsonify, request

from app import db

bp = Blueprint("orders", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/orders")
def list_orders():
    status = request.args.get("status", "open")
    return jsonify(db.list_orders(status))


@bp.get("/orders/<int:order_id>")
def get_order(order_id: int):
    order = db.fetch_order(order_id)
    if order is None:
        return jsonify(error="order not found"), 404
    return jsonify(order)


@bp.post("/orders/import")
def import_orders():
    # planted: P05
    rows = yaml.load(request.get_data(), Loader=yaml.Loader)
    ids = [db.create_order(row["customer_id"], row["total_cents"]) for row in rows]
    return jsonify(created=ids), 201


@bp.post("/orders/<int:order_id>/notify")
def notify(order_id: int):
    order = db.fetch_order(order_id)
    payload = {"order_id": order_id, "status": order["status"] if order else "unknown"}
    # planted: P18
    url = request.args.get("callback_url")
    requests.post(url, json=payload, timeout=5)
    return jsonify(sent=True), 202


@bp.post("/cart/restore")
def restore_cart():
    # planted: P06
    cart = pickle.loads(base64.b64decode(request.cookies["cart"]))
    return jsonify(items=cart)
