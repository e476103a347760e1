"""Orders API: a small Flask service in front of the orders database."""

import os

from flask import Flask
from flask_cors import CORS

from app import db
from app.routes import bp


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["DATABASE_URL"] = os.environ.get(
        "DATABASE_URL", "postgresql://api@orders-db:5432/orders"
    )
    # planted: P15
    CORS(app, origins="*", supports_credentials=True)
    app.register_blueprint(bp)
    app.teardown_appcontext(db.close_connection)
    return app


app = create_app()

if __name__ == "__main__":
    # planted: P01, P02
    app.run(host="0.0.0.0", port=8080, debug=True)
