"""Payments API: card charges and refunds (FastAPI)."""

import logging
import os

import httpx
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from payments.auth import current_customer
from payments.processor import CardProcessor

logger = logging.getLogger("payments")
app = FastAPI(title="payments")

# planted: P08
processor = CardProcessor(api_token="sk_test_payments_demo_token")

STATUS_URL = os.environ.get("PROCESSOR_STATUS_URL", "https://status.cardprocessor.example/api/v2/status.json")


class ChargeRequest(BaseModel):
    card_number: str
    expiry: str
    cvv: str
    amount_cents: int
    currency: str = "EUR"


class RefundRequest(BaseModel):
    amount_cents: int | None = None


@app.get("/healthz")
def healthz() -> dict:
    url = STATUS_URL
    # planted: P09, P20
    resp = httpx.get(url, verify=False)
    return {"status": "ok", "processor": resp.json().get("status", "unknown")}


@app.post("/charges", status_code=201)
def create_charge(charge: ChargeRequest, customer_id: str = Depends(current_customer)) -> dict:
    card_number = charge.card_number
    # planted: P21
    logger.info("charging card %s for customer %s", card_number, customer_id)
    result = processor.charge(card_number, charge.expiry, charge.cvv, charge.amount_cents, charge.currency)
    return {"charge_id": result["id"], "status": result["status"]}


@app.post("/charges/{charge_id}/refund")
def refund_charge(charge_id: str, body: RefundRequest, customer_id: str = Depends(current_customer)) -> dict:
    logger.info("refund of charge %s requested by customer %s", charge_id, customer_id)
    result = processor.refund(charge_id, body.amount_cents)
    return {"refund_id": result["id"], "status": result["status"]}
