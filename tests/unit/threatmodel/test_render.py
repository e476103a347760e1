"""The readable checklist: Markdown with a Mermaid data-flow diagram, self-contained HTML with
an inline SVG; text from the repository is escaped in both."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from compliance.threatmodel.diagram import build_flow, mermaid_text, render_mermaid
from compliance.threatmodel.render import _finalize, code, md, md_prose, render
from compliance.threatmodel.workflow import build_views, plan_init

from .support import repo, workspace

DAY = date(2026, 3, 1)
HOSTILE = '<script>alert("x")</script> `tick` @everyone #1 ]]> "]; click svc call evil()'

APP = {
    "services/shop/app.py": """
    import boto3
    import requests
    from flask import Flask

    app = Flask(__name__)
    sqs = boto3.client("sqs")

    @app.post("/orders/<script>")
    def create():
        sqs.receive_message(QueueUrl="https://sqs.eu-west-1.amazonaws.com/1/jobs")
        requests.get("https://api.vendor.example/x")
        return {}
    """,
    "services/shop/k8s/ingress.yaml": """
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: shop}
    spec:
      tls: [{hosts: [shop.example.com]}]
      rules: [{host: shop.example.com}]
    """,
}


def hostile_model(root: Path) -> None:
    for planned in plan_init(workspace(root), "shop", DAY):
        planned.path.parent.mkdir(parents=True, exist_ok=True)
        planned.path.write_text(planned.text, encoding="utf-8")
    path = root / "threatmodels" / "shop.yaml"
    data = yaml.safe_load(path.read_text())
    data["threats"][0].update(status="mitigated", note=HOSTILE, evidence=[HOSTILE])
    data["facts"].append(
        {
            "id": "datastore:" + HOSTILE,
            "kind": "datastore",
            "summary": HOSTILE,
            "tags": ["datastore"],
            "found_in": ["x.py:1"],
            "source": "manual",
        }
    )
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_markdown_has_the_checklist_by_stride_and_a_mermaid_diagram(tmp_path: Path) -> None:
    root = repo(tmp_path, APP)
    text = render(build_views(workspace(root), "shop", DAY), "markdown")
    assert text.startswith("# Threat model: `shop`\n")
    assert "(draft: not written yet, run `compliance threatmodel init shop`)" in text
    mermaid = text.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert mermaid.startswith("flowchart LR")
    assert 'internet(("Internet<br/>Ingress shop for host shop.example.com (TLS)"))' in mermaid
    assert 'internet -->|"HTTPS"| svc' in mermaid
    assert re.search(r'n\d+\[/"SQS queue jobs"/\]', mermaid)
    assert 'subgraph outside["Outside the organisation"]' in mermaid
    headings = re.findall(r"^### (.+)$", text, flags=re.M)
    assert headings == [
        "Spoofing",
        "Tampering",
        "Repudiation",
        "Information disclosure",
        "Denial of service",
        "Elevation of privilege",
    ]
    assert "- [ ] **Endpoints reachable without authenticating the caller**" in text
    assert "| route | found in |" in text and "`POST /orders/<script> -> create`" in text
    assert "`services/shop/app.py:8`" in text


def test_html_is_self_contained_and_escapes_hostile_text(tmp_path: Path) -> None:
    root = repo(tmp_path, APP)
    hostile_model(root)
    html = render(build_views(workspace(root), None, DAY), "html")
    assert "<script" not in html.lower().replace("&lt;script", "")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "Content-Security-Policy" in html and "<svg" in html
    assert not re.search(r"""(src|href)=["']?https?:""", html)  # nothing to fetch
    assert "&#9745;" in html  # the mitigated threat is ticked
    assert html.count("<section") == 2  # both services (billing as a draft)


def test_markdown_escapes_hostile_text_and_the_diagram_cannot_break_out(tmp_path: Path) -> None:
    root = repo(tmp_path, APP)
    hostile_model(root)
    text = render(build_views(workspace(root), "shop", DAY), "markdown")
    # Outside code spans (where Markdown shows HTML as text), nothing is live HTML.
    prose = re.sub(r"``[^`].*?``|`[^`\n]*`", "", text)
    assert "<script" not in prose and "<img" not in prose
    assert "&lt;script&gt;" in prose
    assert "@\u200beveryone" in text and "#\u200b1" in text
    mermaid = text.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert "`" not in mermaid and "<script" not in mermaid
    assert "#60;script#62;" in mermaid  # the hostile label, as Mermaid entity codes
    for line in mermaid.splitlines()[1:]:
        # every label stays inside its quotes: no quote, bracket or semicolon leaks out
        assert line.count('"') % 2 == 0, line


def test_escaping_helpers() -> None:
    assert md("a <b> & *c* | @x") == "a &lt;b&gt; &amp; \\*c\\* \\| @\u200bx"
    assert code("a`b") == "``a`b``"
    assert md_prose("use `verify=False` <never>") == "use `verify=False` &lt;never&gt;"
    assert mermaid_text('a"b]c\n<d>') == "a#34;b#93;c #60;d#62;"
    with pytest.raises(TypeError, match="unescaped value"):
        _finalize("raw")
    assert render_mermaid(build_flow("svc", ())).startswith('flowchart LR\n  svc["svc"]')
