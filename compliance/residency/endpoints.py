"""Regions in service endpoints and ARNs: `https://sqs.us-east-1.amazonaws.com/...`,
`europe-west1-aiplatform.googleapis.com`, `westeurope.api.cognitive.microsoft.com`,
`arn:aws:sns:eu-west-1:123456789012:topic`.

The cloud is told by the host's domain; the region is any dash-separated run of one of the
host's labels that the cloud's region table knows (`s3-eu-west-1`, `europe-west1-run`,
`westeurope-1`), so only real region names are ever read out of a host. A global endpoint
(`s3.amazonaws.com`, `storage.googleapis.com`) names no region and gives None.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from compliance.residency.regions import CloudLocation, LocationKind, Provider, RegionTables

_DOMAINS: tuple[tuple[str, Provider], ...] = (
    (".amazonaws.com.cn", Provider.AWS),
    (".amazonaws.com", Provider.AWS),
    (".on.aws", Provider.AWS),
    (".api.aws", Provider.AWS),
    (".googleapis.com", Provider.GCP),
    (".pkg.dev", Provider.GCP),
    (".cloudfunctions.net", Provider.GCP),
    (".gcr.io", Provider.GCP),
    (".azure.com", Provider.AZURE),
    (".azure.net", Provider.AZURE),
    (".windows.net", Provider.AZURE),
    (".microsoft.com", Provider.AZURE),
    (".azmk8s.io", Provider.AZURE),
    (".azurecr.io", Provider.AZURE),
)
_ARN = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):([a-z]{2}(?:-gov)?-[a-z]+-\d+):")
#: Hints that a string may be an endpoint: a cheap test before parsing it.
ENDPOINT_HINTS = tuple(d.lstrip(".") for d, _ in _DOMAINS)


def host_of(text: str) -> str | None:
    value = text.strip()
    if "://" not in value:
        value = "//" + value
    try:
        host = urlsplit(value).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def endpoint_location(text: str, tables: RegionTables) -> CloudLocation | None:
    """The region a URL or host names, or None (not a cloud endpoint, or a global one)."""
    host = host_of(text)
    if host is None:
        return None
    for domain, provider in _DOMAINS:
        if host.endswith(domain):
            labels = host[: -len(domain)].split(".")
            return _find(labels, provider, tables)
    return None


def arn_region(text: str) -> tuple[str, str] | None:
    """(service, region) of a regional ARN."""
    match = _ARN.match(text.strip())
    return (match.group(1), match.group(2)) if match else None


def _find(labels: list[str], provider: Provider, tables: RegionTables) -> CloudLocation | None:
    table = tables[provider]
    for label in reversed(labels):
        parts = label.split("-")
        # the longest runs first: "europe-west1" before "west1"
        for size in range(len(parts), 0, -1):
            for start in range(len(parts) - size + 1):
                found = table.lookup("-".join(parts[start : start + size]))
                if found is not None and found.kind is not LocationKind.GLOBAL:
                    return found
    return None
