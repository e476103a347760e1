"""Client for the external card processor."""

import hashlib
import os

import httpx

PROCESSOR_URL = os.environ.get("PROCESSOR_URL", "https://api.cardprocessor.example/v1")


def card_fingerprint(card_number: str) -> str:
    """Stable id for a card, used to spot repeated cards without storing the number."""
    # planted: P10
    return hashlib.md5(card_number.encode()).hexdigest()


class CardProcessor:
    def __init__(self, api_token: str) -> None:
        # planted: P11, P22
        self._http = httpx.Client(verify=False)
        self._headers = {"Authorization": f"Bearer {api_token}"}

    def charge(self, card_number: str, expiry: str, cvv: str, amount_cents: int, currency: str) -> dict:
        payload = {
            "card": {"number": card_number, "expiry": expiry, "cvv": cvv},
            "fingerprint": card_fingerprint(card_number),
            "amount": amount_cents,
            "currency": currency,
        }
        resp = self._http.post(f"{PROCESSOR_URL}/charges", json=payload, headers=self._headers, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def refund(self, charge_id: str, amount_cents: int | None = None) -> dict:
        payload = {"charge": charge_id, "amount": amount_cents}
        resp = self._http.post(f"{PROCESSOR_URL}/refunds", json=payload, headers=self._headers, timeout=10)
        resp.raise_for_status()
        return resp.json()
