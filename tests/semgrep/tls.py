# Semgrep test target for policies/semgrep/tls.yaml (deliberately insecure snippets).
import ssl

import aiohttp
import httpx
import requests
import urllib3
from httpx import AsyncClient


def httpx_calls(url):
    # ruleid: tls-verification-disabled
    httpx.get(url, verify=False)
    # ruleid: tls-verification-disabled
    client = httpx.Client(verify=False, timeout=5)
    # ruleid: tls-verification-disabled
    async_client = AsyncClient(base_url=url, verify=False)
    # ok: tls-verification-disabled
    httpx.get(url, verify=True)
    # ok: tls-verification-disabled
    httpx.Client(verify="/etc/ssl/certs/internal-ca.pem")
    return client, async_client


async def aiohttp_calls(url):
    # ruleid: tls-verification-disabled
    connector = aiohttp.TCPConnector(ssl=False)
    # ruleid: tls-verification-disabled
    legacy = aiohttp.TCPConnector(verify_ssl=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        # ruleid: tls-verification-disabled
        async with session.get(url, ssl=False) as resp:
            await resp.text()
        # ok: tls-verification-disabled
        async with session.get(url, ssl=ssl.create_default_context()) as resp:
            await resp.text()
    return legacy


def urllib3_calls():
    # ruleid: tls-verification-disabled
    pool = urllib3.PoolManager(cert_reqs="CERT_NONE")
    # ruleid: tls-verification-disabled
    pool2 = urllib3.PoolManager(cert_reqs=ssl.CERT_NONE, assert_hostname=False)
    # ok: tls-verification-disabled
    pool3 = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs="/etc/ssl/ca.pem")
    return pool, pool2, pool3


def stdlib_contexts():
    # ruleid: tls-verification-disabled
    unverified = ssl._create_unverified_context()
    ctx = ssl.create_default_context()
    # ruleid: tls-verification-disabled
    ctx.check_hostname = False
    # ruleid: tls-verification-disabled
    ctx.verify_mode = ssl.CERT_NONE
    # ok: tls-verification-disabled
    ctx.verify_mode = ssl.CERT_REQUIRED
    # ok: tls-verification-disabled
    ctx.check_hostname = True
    return unverified, ctx


def session_attribute():
    session = requests.Session()
    # ruleid: tls-verification-disabled
    session.verify = False
    # ok: tls-verification-disabled
    session.verify = "/etc/ssl/certs/internal-ca.pem"
    return session


def other_clients(Elasticsearch, InfluxDBClient):
    # ruleid: tls-verification-disabled
    es = Elasticsearch("https://search:9200", verify_certs=False)
    # ruleid: tls-verification-disabled
    influx = InfluxDBClient(url="https://influx:8086", verify_ssl=False)
    # ok: tls-verification-disabled
    es_ok = Elasticsearch("https://search:9200", verify_certs=True, ca_certs="/ca.pem")
    return es, influx, es_ok


def tls_versions():
    ctx = ssl.create_default_context()
    # ruleid: tls-weak-minimum-version
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    # ruleid: tls-weak-minimum-version
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    # ruleid: tls-weak-minimum-version
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    # ok: tls-weak-minimum-version
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # ok: tls-weak-minimum-version
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    return ctx
