"""Drain the exports queue: fetch the raw export, compress it, publish it, notify the customer."""

import json
import logging
import os
# planted: P12
import subprocess

import boto3
import requests

logger = logging.getLogger("worker")

# planted: P53
QUEUE_URL = os.environ.get("EXPORT_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/customer-exports")
RAW_BUCKET = os.environ.get("RAW_BUCKET", "acme-prod-raw-exports")
EXPORT_BUCKET = os.environ.get("EXPORT_BUCKET", "acme-prod-customer-exports-us")
WORK_DIR = os.environ.get("WORK_DIR", "/var/lib/worker")

# planted: P23, P52
sqs = boto3.client("sqs", region_name="us-east-1")
s3 = boto3.client("s3")


def compress(path: str) -> str:
    # planted: P13
    subprocess.run(f"gzip -9 --force {path}", shell=True, check=True)
    return path + ".gz"


def notify(webhook_url: str, body: dict) -> None:
    # planted: P14
    response = requests.post(webhook_url, json=body)
    logger.info("webhook %s answered %s", webhook_url, response.status_code)


def handle(job: dict) -> None:
    local = os.path.join(WORK_DIR, os.path.basename(job["source_key"]))
    s3.download_file(RAW_BUCKET, job["source_key"], local)
    archive = compress(local)
    key = f"exports/{job['customer_id']}/{os.path.basename(archive)}"
    s3.upload_file(archive, EXPORT_BUCKET, key)
    os.remove(archive)
    if job.get("webhook_url"):
        notify(job["webhook_url"], {"export_id": job["export_id"], "bucket": EXPORT_BUCKET, "key": key})


def run(once: bool = False) -> None:
    while True:
        batch = sqs.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=10, WaitTimeSeconds=20)
        for message in batch.get("Messages", []):
            handle(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
        if once:
            return


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run(once=os.environ.get("RUN_ONCE") == "1")
