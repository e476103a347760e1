# Semgrep test target for policies/semgrep/injection.yaml (deliberately insecure snippets).
import sqlite3
import xml.sax
from xml.sax.handler import feature_external_ges

import jinja2
import pandas as pd
from django.db.models.expressions import RawSQL
from flask import Flask, render_template, render_template_string, request
from lxml import etree
from sqlalchemy import text

app = Flask(__name__)
TABLE = "orders"


def dbapi(conn: sqlite3.Connection, customer_id, status, order_by):
    cur = conn.cursor()
    # ruleid: sql-built-by-string-formatting
    cur.execute(f"SELECT * FROM orders WHERE customer_id = {customer_id}")
    # ruleid: sql-built-by-string-formatting
    cur.execute("SELECT * FROM orders WHERE status = '%s'" % status)
    # ruleid: sql-built-by-string-formatting
    cur.execute("DELETE FROM orders WHERE id = {}".format(customer_id))
    # ruleid: sql-built-by-string-formatting
    cur.execute("SELECT * FROM orders ORDER BY " + order_by)
    query = f"UPDATE orders SET status = '{status}' WHERE id = {customer_id}"
    # ruleid: sql-built-by-string-formatting
    cur.execute(query)
    sql = "SELECT * FROM orders WHERE 1 = 1"
    sql += " AND status = '%s'" % status
    # ruleid: sql-built-by-string-formatting
    cur.execute(sql)
    # ok: sql-built-by-string-formatting
    cur.execute("SELECT * FROM orders WHERE customer_id = ?", (customer_id,))
    # ok: sql-built-by-string-formatting
    cur.execute("SELECT count(*) FROM orders")
    # ok: sql-built-by-string-formatting
    cur.execute(f"SELECT * FROM {TABLE} WHERE id = %s", (customer_id,))
    # ok: sql-built-by-string-formatting
    cur.execute(f"SELECT 1")
    const_query = "SELECT * FROM orders"
    # ok: sql-built-by-string-formatting
    cur.execute(const_query)


def sqlalchemy_usage(session, engine, name):
    # ruleid: sql-built-by-string-formatting
    session.execute(text(f"SELECT * FROM users WHERE name = '{name}'"))
    # ruleid: sql-built-by-string-formatting
    session.execute(f"SELECT * FROM users WHERE name = '{name}'")
    with engine.connect() as conn:
        # ruleid: sql-built-by-string-formatting
        conn.exec_driver_sql("SELECT * FROM users WHERE name = '%s'" % name)
        # ok: sql-built-by-string-formatting
        conn.execute(text("SELECT * FROM users WHERE name = :name"), {"name": name})
    # ruleid: sql-built-by-string-formatting
    frame = pd.read_sql(f"SELECT * FROM users WHERE name = '{name}'", engine)
    # ok: sql-built-by-string-formatting
    frame2 = pd.read_sql("SELECT * FROM users WHERE name = %(n)s", engine, params={"n": name})
    return frame, frame2


def django_orm(User, Order, username, min_total):
    # ruleid: sql-built-by-string-formatting
    users = User.objects.raw(f"SELECT * FROM auth_user WHERE username = '{username}'")
    # ruleid: sql-built-by-string-formatting
    big = Order.objects.extra(where=[f"total > {min_total}"])
    # ruleid: sql-built-by-string-formatting
    annotated = Order.objects.annotate(x=RawSQL("SELECT %s" % min_total, ()))
    # ok: sql-built-by-string-formatting
    safe = User.objects.raw("SELECT * FROM auth_user WHERE username = %s", [username])
    # ok: sql-built-by-string-formatting
    safe2 = Order.objects.extra(where=["total > %s"], params=[min_total])
    return users, big, annotated, safe, safe2


@app.get("/greet")
def greet():
    name = request.args.get("name", "world")
    template = "<h1>Hello " + name + "</h1>"
    # ruleid: ssti-render-template-string
    return render_template_string(template)


@app.post("/preview")
def preview():
    body = request.form["template"]
    # ruleid: ssti-render-template-string
    html = jinja2.Template(body).render()
    env = jinja2.Environment(autoescape=True)
    # ruleid: ssti-render-template-string
    html2 = env.from_string(request.get_json()["tpl"]).render()
    return html + html2


@app.get("/hello")
def hello():
    name = request.args.get("name", "world")
    # ok: ssti-render-template-string
    a = render_template_string("<h1>Hello {{ name }}</h1>", name=name)
    # ok: ssti-render-template-string
    b = render_template("hello.html", name=name)
    return a + b


def parse_untrusted(xml_bytes):
    # ruleid: xxe-lxml-unsafe-parser
    parser = etree.XMLParser(resolve_entities=True)
    # ruleid: xxe-lxml-unsafe-parser
    parser2 = etree.XMLParser(load_dtd=True, no_network=False)
    # ok: xxe-lxml-unsafe-parser
    safe = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    sax = xml.sax.make_parser()
    # ruleid: xxe-lxml-unsafe-parser
    sax.setFeature(feature_external_ges, True)
    # ok: xxe-lxml-unsafe-parser
    sax.setFeature(feature_external_ges, False)
    return etree.fromstring(xml_bytes, parser), parser2, safe
