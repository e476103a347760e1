# Semgrep test target for policies/semgrep/cloud-region.yaml (deliberately insecure snippets).
import os

import boto3
from azure.identity import DefaultAzureCredential
from azure.mgmt.resource import ResourceManagementClient
from azure.mgmt.resource.resources.models import ResourceGroup
from azure.mgmt.storage.models import StorageAccountCreateParameters
from google.cloud import aiplatform, bigquery, storage

from app.settings import settings


def aws_clients():
    # ruleid: boto3-region-literal
    sqs = boto3.client("sqs", region_name="us-east-1")
    # ruleid: boto3-region-literal
    s3 = boto3.resource("s3", "eu-west-1")
    # ruleid: boto3-region-literal
    session = boto3.Session(profile_name="prod", region_name="ap-southeast-2")
    # ruleid: boto3-region-literal
    kms = session.client("kms", region_name="us-west-2")
    # ruleid: boto3-region-literal
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    # ok: boto3-region-literal
    sns = boto3.client("sns", region_name=settings.aws_region)
    # ok: boto3-region-literal
    ddb = boto3.resource("dynamodb", region_name=os.environ["AWS_REGION"])
    # ok: boto3-region-literal
    s3_default = boto3.client("s3")
    return sqs, s3, session, kms, sns, ddb, s3_default


def gcp_resources(name):
    storage_client = storage.Client()
    # ruleid: gcp-location-literal
    bucket = storage_client.create_bucket(name, location="US")
    dataset = bigquery.Dataset(f"{settings.gcp_project}.analytics")
    # ruleid: gcp-location-literal
    dataset.location = "US"
    # ruleid: gcp-location-literal
    bq = bigquery.Client(location="europe-west1")
    # ruleid: gcp-location-literal
    job = bq.query("SELECT 1", location="EU")
    # ruleid: gcp-location-literal
    aiplatform.init(project=settings.gcp_project, location="us-central1")
    # ok: gcp-location-literal
    aiplatform.init(project=settings.gcp_project, location=settings.vertex_location)
    # ok: gcp-location-literal
    bucket2 = storage_client.create_bucket(name, location=settings.gcs_location)
    # ok: gcp-location-literal
    dataset.location = settings.bq_location
    return bucket, bq, bucket2, job


def azure_resources(subscription_id):
    client = ResourceManagementClient(DefaultAzureCredential(), subscription_id)
    # ruleid: azure-location-literal
    client.resource_groups.create_or_update("rg-shop", {"location": "eastus"})
    # ruleid: azure-location-literal
    params = StorageAccountCreateParameters(sku={"name": "Standard_LRS"}, location="westeurope")
    # ruleid: azure-location-literal
    client.resource_groups.create_or_update("rg-data", ResourceGroup(location="northeurope"))
    # ok: azure-location-literal
    client.resource_groups.create_or_update("rg-shop", {"location": settings.azure_location})
    # ok: azure-location-literal
    zone = {"location": "global", "tags": {}}
    return params, zone
