"""PostgreSQL access (psycopg2) for the orders API."""

import os

import psycopg2
import psycopg2.extras
from flask import current_app, g

# planted: P16
DB_PASSWORD = os.environ.get("DB_PASSWORD", "postgres-dev-pass")


def get_connection():
    if "db" not in g:
        g.db = psycopg2.connect(current_app.config["DATABASE_URL"], password=DB_PASSWORD)
    return g.db


def close_connection(exc=None):
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def _cursor():
    return get_connection().cursor(cursor_factory=psycopg2.extras.RealDictCursor)


def fetch_order(order_id):
    with _cursor() as cursor:
        # planted: P03, P17
        cursor.execute(f"SELECT id, customer_id, status, total_cents FROM orders WHERE id = {order_id}")
        return cursor.fetchone()


def list_orders(status):
    with _cursor() as cursor:
        # planted: P03 (the status comes straight from the query string)
        cursor.execute("SELECT id, status, total_cents FROM orders WHERE status = '%s' ORDER BY id" % status)
        return cursor.fetchall()


def create_order(customer_id, total_cents):
    with _cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders (customer_id, status, total_cents) VALUES (%s, 'open', %s) RETURNING id",
            (customer_id, total_cents),
        )
        get_connection().commit()
        return cursor.fetchone()["id"]
