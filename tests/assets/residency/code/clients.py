# Residency test target (and `semgrep --test` target of policies/residency/semgrep/clients.yaml):
# SDK clients and endpoints with region literals.
import os

import boto3
from azure.mgmt.resource import ResourceManagementClient
from azure.mgmt.storage.models import StorageAccountCreateParameters
from google.cloud import bigquery, storage

# ruleid: cloud-endpoint
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
# ruleid: cloud-endpoint
VERTEX = "https://europe-west4-aiplatform.googleapis.com/v1/projects/p"
# ruleid: cloud-endpoint
SPEECH = "https://eastus.tts.speech.microsoft.com/cognitiveservices/v1"
# ruleid: cloud-endpoint
GLOBAL_S3 = "https://s3.amazonaws.com/bucket"
# ok: cloud-endpoint
HOMEPAGE = "https://www.example.com/amazonaws.com"


def aws(settings):
    # ruleid: aws-client-region
    sqs = boto3.client("sqs", region_name="us-east-1")
    # ruleid: aws-client-region
    s3 = boto3.resource("s3", "eu-west-1")
    # ruleid: aws-client-region
    os.environ["AWS_DEFAULT_REGION"] = "ap-southeast-2"
    # ok: aws-client-region
    kms = boto3.client("kms", region_name=settings.region)
    return sqs, s3, kms


def gcp(name):
    client = storage.Client()
    # ruleid: gcp-client-location
    bucket = client.create_bucket(name, location="US")
    # ruleid: gcp-client-location
    bq = bigquery.Client(location="europe-west1")
    # ok: gcp-client-location
    other = bigquery.Client(location="global")
    return bucket, bq, other


def azure(client: ResourceManagementClient):
    # ruleid: azure-client-location
    client.resource_groups.create_or_update("rg", {"location": "eastus"})
    # ruleid: azure-client-location
    return StorageAccountCreateParameters(sku={"name": "Standard_LRS"}, location="westeurope")
