"""What we recognise: Python modules and distribution names, and the fact each one means.

A module is looked up by its full dotted name first, then by its parents
(`redis.asyncio` -> `redis`); for `from X import Y` the name `X.Y` is tried first, so
`from fastapi.security import HTTPBasic` can mean basic authentication while
`from fastapi import FastAPI` means the framework.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.threatmodel.facts import FactKind


@dataclass(frozen=True, slots=True)
class Spec:
    """The fact a module, package or SDK service stands for."""

    fact_id: str
    kind: FactKind
    summary: str
    tags: tuple[str, ...]


#: Facts whose detail lists the libraries (or resources) they were seen through.
NAMED_KINDS = frozenset(
    {FactKind.DATASTORE, FactKind.AUTH, FactKind.MESSAGING, FactKind.OBJECT_STORAGE}
)


def _framework(name: str, title: str) -> Spec:
    return Spec(
        f"framework:{name}",
        FactKind.FRAMEWORK,
        f"{title} web application",
        ("http", f"framework:{name}"),
    )


def _sql(engine: str, title: str) -> Spec:
    return Spec(
        f"datastore:{engine}",
        FactKind.DATASTORE,
        f"{title} database",
        ("datastore", "datastore:sql"),
    )


def _auth(kind: str, summary: str, *extra: str) -> Spec:
    return Spec(f"auth:{kind}", FactKind.AUTH, summary, ("auth", *extra))


def _messaging(system: str, summary: str) -> Spec:
    return Spec(f"messaging:{system}", FactKind.MESSAGING, summary, ("messaging",))


def _secrets(manager: str, summary: str) -> Spec:
    return Spec(
        f"secrets:manager:{manager}", FactKind.SECRETS, summary, ("secrets", "secrets:manager")
    )


FLASK = _framework("flask", "Flask")
FASTAPI = _framework("fastapi", "FastAPI")
DJANGO = _framework("django", "Django")
STARLETTE = _framework("starlette", "Starlette")
AIOHTTP = _framework("aiohttp", "aiohttp")
TORNADO = _framework("tornado", "Tornado")
FALCON = _framework("falcon", "Falcon")
SANIC = _framework("sanic", "Sanic")
BOTTLE = _framework("bottle", "Bottle")
PYRAMID = _framework("pyramid", "Pyramid")
QUART = _framework("quart", "Quart")
LITESTAR = _framework("litestar", "Litestar")

POSTGRESQL = _sql("postgresql", "PostgreSQL")
MYSQL = _sql("mysql", "MySQL")
SQLITE = _sql("sqlite", "SQLite")
ORACLE = _sql("oracle", "Oracle")
SQLSERVER = _sql("sqlserver", "SQL Server")
#: A SQL database whose engine the code does not say (an ORM, ODBC); dropped when a
#: specific engine is known.
SQL_GENERIC = _sql("sql", "SQL")
REDIS = Spec("datastore:redis", FactKind.DATASTORE, "Redis", ("datastore", "datastore:redis"))
MEMCACHED = Spec("datastore:memcached", FactKind.DATASTORE, "Memcached cache", ("datastore",))
MONGODB = Spec(
    "datastore:mongodb", FactKind.DATASTORE, "MongoDB database", ("datastore", "datastore:nosql")
)
CASSANDRA = Spec(
    "datastore:cassandra",
    FactKind.DATASTORE,
    "Cassandra database",
    ("datastore", "datastore:nosql"),
)
DYNAMODB = Spec(
    "datastore:dynamodb",
    FactKind.DATASTORE,
    "DynamoDB tables",
    ("datastore", "datastore:nosql"),
)
ELASTICSEARCH = Spec(
    "datastore:elasticsearch",
    FactKind.DATASTORE,
    "Elasticsearch / OpenSearch index",
    ("datastore", "datastore:search"),
)

JWT = _auth("jwt", "JSON Web Tokens", "auth:jwt")
OAUTH = _auth("oauth", "OAuth 2.0 / OpenID Connect", "auth:oauth")
SESSION = _auth("session", "Server-side or signed-cookie sessions", "auth:session")
PASSWORDS = _auth("password-hashing", "Password hashing (stores user passwords)", "auth:password")
BASIC = _auth("basic", "HTTP Basic authentication", "auth:basic", "auth:password")
BEARER = _auth("bearer", "Bearer tokens (HTTP Authorization header)", "auth:bearer")
API_KEY = _auth("api-key", "API keys", "auth:api-key")

KAFKA = _messaging("kafka", "Kafka")
RABBITMQ = _messaging("rabbitmq", "RabbitMQ / AMQP")
PUBSUB = _messaging("pubsub", "Google Cloud Pub/Sub")
CELERY = _messaging("celery", "Celery task queue")
NATS = _messaging("nats", "NATS")
SERVICE_BUS = _messaging("azure-service-bus", "Azure Service Bus")

GCS = Spec(
    "object-storage:gcs", FactKind.OBJECT_STORAGE, "Google Cloud Storage", ("object-storage",)
)
AZURE_BLOB = Spec(
    "object-storage:azure-blob",
    FactKind.OBJECT_STORAGE,
    "Azure Blob Storage",
    ("object-storage",),
)
MINIO = Spec(
    "object-storage:minio", FactKind.OBJECT_STORAGE, "MinIO object storage", ("object-storage",)
)

VAULT = _secrets("vault", "HashiCorp Vault")
GCP_SECRETS = _secrets("gcp-secret-manager", "Google Secret Manager")
AZURE_KEY_VAULT = _secrets("azure-key-vault", "Azure Key Vault")
AWS_SECRETS = _secrets("aws-secrets-manager", "AWS Secrets Manager")
AWS_SSM = _secrets("aws-ssm-parameter-store", "AWS Systems Manager Parameter Store")

#: Python modules (and `module.Name` for names imported from them) -> fact.
MODULES: dict[str, Spec] = {
    "flask": FLASK,
    "flask.session": SESSION,
    "fastapi": FASTAPI,
    "fastapi.security.HTTPBasic": BASIC,
    "fastapi.security.HTTPBearer": BEARER,
    "fastapi.security.APIKeyHeader": API_KEY,
    "fastapi.security.APIKeyQuery": API_KEY,
    "fastapi.security.APIKeyCookie": API_KEY,
    "fastapi.security.OAuth2PasswordBearer": OAUTH,
    "fastapi.security.OAuth2AuthorizationCodeBearer": OAUTH,
    "fastapi.security.OpenIdConnect": OAUTH,
    "django": DJANGO,
    "django.contrib.sessions": SESSION,
    "django.contrib.auth": SESSION,
    "django.contrib.auth.hashers": PASSWORDS,
    "django.db": SQL_GENERIC,
    "starlette.applications": STARLETTE,
    "starlette.routing": STARLETTE,
    "starlette.middleware.sessions": SESSION,
    "aiohttp.web": AIOHTTP,
    "tornado.web": TORNADO,
    "falcon": FALCON,
    "sanic": SANIC,
    "bottle": BOTTLE,
    "pyramid": PYRAMID,
    "quart": QUART,
    "litestar": LITESTAR,
    "jwt": JWT,
    "jose": JWT,
    "jwcrypto": JWT,
    "flask_jwt_extended": JWT,
    "rest_framework_simplejwt": JWT,
    "authlib": OAUTH,
    "oauthlib": OAUTH,
    "requests_oauthlib": OAUTH,
    "social_core": OAUTH,
    "social_django": OAUTH,
    "flask_dance": OAUTH,
    "allauth": OAUTH,
    "flask_login": SESSION,
    "flask_session": SESSION,
    "passlib": PASSWORDS,
    "bcrypt": PASSWORDS,
    "argon2": PASSWORDS,
    "werkzeug.security": PASSWORDS,
    "psycopg2": POSTGRESQL,
    "psycopg": POSTGRESQL,
    "asyncpg": POSTGRESQL,
    "pg8000": POSTGRESQL,
    "pymysql": MYSQL,
    "MySQLdb": MYSQL,
    "mysql.connector": MYSQL,
    "aiomysql": MYSQL,
    "sqlite3": SQLITE,
    "aiosqlite": SQLITE,
    "cx_Oracle": ORACLE,
    "oracledb": ORACLE,
    "pymssql": SQLSERVER,
    "pyodbc": SQL_GENERIC,
    "redis": REDIS,
    "aioredis": REDIS,
    "pymemcache": MEMCACHED,
    "pylibmc": MEMCACHED,
    "pymongo": MONGODB,
    "motor": MONGODB,
    "cassandra": CASSANDRA,
    "elasticsearch": ELASTICSEARCH,
    "opensearchpy": ELASTICSEARCH,
    "kafka": KAFKA,
    "confluent_kafka": KAFKA,
    "aiokafka": KAFKA,
    "pika": RABBITMQ,
    "aio_pika": RABBITMQ,
    "kombu": RABBITMQ,
    "google.cloud.pubsub": PUBSUB,
    "google.cloud.pubsub_v1": PUBSUB,
    "celery": CELERY,
    "nats": NATS,
    "azure.servicebus": SERVICE_BUS,
    "google.cloud.storage": GCS,
    "azure.storage.blob": AZURE_BLOB,
    "minio": MINIO,
    "hvac": VAULT,
    "google.cloud.secretmanager": GCP_SECRETS,
    "azure.keyvault.secrets": AZURE_KEY_VAULT,
}

#: Distribution names (normalised: lower case, `-` for `_` and `.`) -> fact.
PACKAGES: dict[str, Spec] = {
    "flask": FLASK,
    "fastapi": FASTAPI,
    "django": DJANGO,
    "starlette": STARLETTE,
    "tornado": TORNADO,
    "falcon": FALCON,
    "sanic": SANIC,
    "bottle": BOTTLE,
    "pyramid": PYRAMID,
    "quart": QUART,
    "litestar": LITESTAR,
    "pyjwt": JWT,
    "python-jose": JWT,
    "jwcrypto": JWT,
    "flask-jwt-extended": JWT,
    "djangorestframework-simplejwt": JWT,
    "authlib": OAUTH,
    "oauthlib": OAUTH,
    "requests-oauthlib": OAUTH,
    "social-auth-core": OAUTH,
    "flask-dance": OAUTH,
    "django-allauth": OAUTH,
    "flask-login": SESSION,
    "flask-session": SESSION,
    "passlib": PASSWORDS,
    "bcrypt": PASSWORDS,
    "argon2-cffi": PASSWORDS,
    "psycopg2": POSTGRESQL,
    "psycopg2-binary": POSTGRESQL,
    "psycopg": POSTGRESQL,
    "psycopg-binary": POSTGRESQL,
    "asyncpg": POSTGRESQL,
    "pg8000": POSTGRESQL,
    "pymysql": MYSQL,
    "mysqlclient": MYSQL,
    "mysql-connector-python": MYSQL,
    "aiomysql": MYSQL,
    "cx-oracle": ORACLE,
    "oracledb": ORACLE,
    "pymssql": SQLSERVER,
    "redis": REDIS,
    "aioredis": REDIS,
    "pymemcache": MEMCACHED,
    "pylibmc": MEMCACHED,
    "pymongo": MONGODB,
    "motor": MONGODB,
    "cassandra-driver": CASSANDRA,
    "elasticsearch": ELASTICSEARCH,
    "opensearch-py": ELASTICSEARCH,
    "kafka-python": KAFKA,
    "confluent-kafka": KAFKA,
    "aiokafka": KAFKA,
    "pika": RABBITMQ,
    "aio-pika": RABBITMQ,
    "google-cloud-pubsub": PUBSUB,
    "celery": CELERY,
    "nats-py": NATS,
    "azure-servicebus": SERVICE_BUS,
    "google-cloud-storage": GCS,
    "azure-storage-blob": AZURE_BLOB,
    "minio": MINIO,
    "hvac": VAULT,
    "google-cloud-secret-manager": GCP_SECRETS,
    "azure-keyvault-secrets": AZURE_KEY_VAULT,
}

#: URL schemes of connection strings -> fact.
URL_SCHEMES: dict[str, Spec] = {
    "postgres": POSTGRESQL,
    "postgresql": POSTGRESQL,
    "mysql": MYSQL,
    "mariadb": MYSQL,
    "sqlite": SQLITE,
    "oracle": ORACLE,
    "mssql": SQLSERVER,
    "redis": REDIS,
    "rediss": REDIS,
    "mongodb": MONGODB,
    "mongodb+srv": MONGODB,
    "amqp": RABBITMQ,
    "amqps": RABBITMQ,
    "kafka": KAFKA,
}

#: Django's `DATABASES[...]["ENGINE"]` values -> fact.
DJANGO_ENGINES: dict[str, Spec] = {
    "django.db.backends.postgresql": POSTGRESQL,
    "django.db.backends.postgresql_psycopg2": POSTGRESQL,
    "django.db.backends.mysql": MYSQL,
    "django.db.backends.sqlite3": SQLITE,
    "django.db.backends.oracle": ORACLE,
}

#: Web frameworks whose routes we read (decorators, URL confs, router calls).
ROUTE_FRAMEWORKS: dict[str, str] = {
    "flask": "flask",
    "quart": "quart",
    "fastapi": "fastapi",
    "starlette": "starlette",
    "sanic": "sanic",
    "aiohttp": "aiohttp",
    "bottle": "bottle",
    "litestar": "litestar",
    "falcon": "falcon",
    "django": "django",
}


def lookup_module(dotted: str) -> Spec | None:
    """The fact a module (or `module.Name`) means, trying parents in turn."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        spec = MODULES.get(".".join(parts[:end]))
        if spec is not None:
            return spec
    return None


def normalise_package(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")
