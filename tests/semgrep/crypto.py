# Semgrep test target for policies/semgrep/crypto.yaml (deliberately insecure snippets).
import base64
import hashlib
import hmac
import os
import random
import secrets
import string

from Crypto.Cipher import AES
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

ITERATIONS = 1000
STATIC_IV = b"0123456789abcdef"


def derive(password: bytes, salt: bytes):
    # ruleid: pbkdf2-low-iterations
    a = hashlib.pbkdf2_hmac("sha256", password, salt, 1000)
    # ruleid: pbkdf2-low-iterations
    b = hashlib.pbkdf2_hmac("sha256", password, salt, ITERATIONS)
    # ruleid: pbkdf2-low-iterations
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=10_000)
    # ok: pbkdf2-low-iterations
    c = hashlib.pbkdf2_hmac("sha256", password, salt, 600_000)
    # ok: pbkdf2-low-iterations
    kdf2 = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=600_000)
    return a, b, c, kdf, kdf2


def store_user(user, password, salt, form, request):
    # ruleid: fast-hash-for-password
    user.password_hash = hashlib.sha256(password.encode()).hexdigest()
    # ruleid: fast-hash-for-password
    user.password_hash = hashlib.sha512((salt + user.password).encode()).hexdigest()
    # ruleid: fast-hash-for-password
    digest = hashlib.new("sha256", form.password.data.encode()).hexdigest()
    h = hashlib.blake2b()
    # ruleid: fast-hash-for-password
    h.update(request.form["password"].encode())
    # ok: fast-hash-for-password
    file_digest = hashlib.sha256(user.avatar_bytes).hexdigest()
    # ok: fast-hash-for-password
    reset = hashlib.sha256(user.password_reset_token.encode()).hexdigest()
    # ok: fast-hash-for-password
    slow = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return digest, h, file_digest, reset, slow


def verify_webhook(body: bytes, key: bytes, request, user, token):
    signature = request.headers["X-Hub-Signature-256"]
    expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    # ruleid: insecure-hmac-comparison
    if signature != expected:
        return False
    # ruleid: insecure-hmac-comparison
    if hmac.new(key, body, hashlib.sha256).hexdigest() == request.headers.get("X-Sig"):
        return True
    # ruleid: insecure-hmac-comparison
    if user.api_key == request.headers["X-Api-Key"]:
        return True
    # ok: insecure-hmac-comparison
    if hmac.compare_digest(signature, expected):
        return True
    # ok: insecure-hmac-comparison
    if signature == "":
        return False
    # ok: insecure-hmac-comparison
    if token == prev_token_in_stream(token):
        return False
    # ok: insecure-hmac-comparison
    if user.check_type == CheckType.SECRETS:
        return False
    # ok: insecure-hmac-comparison
    if user.secret_line_index == request.args["line"]:
        return False
    # ok: insecure-hmac-comparison
    return user.signature_type == request.args["kind"]


class CheckType:
    SECRETS = "secrets"


def prev_token_in_stream(tok):
    return tok


def make_tokens(user):
    alphabet = string.ascii_letters + string.digits
    # ruleid: weak-random-for-secret
    reset_token = "".join(random.choice(alphabet) for _ in range(32))
    # ruleid: weak-random-for-secret
    user.otp = random.randint(100000, 999999)
    # ok: weak-random-for-secret
    safe_token = secrets.token_urlsafe(32)
    # ok: weak-random-for-secret
    jitter = random.uniform(0.5, 1.5)
    return reset_token, safe_token, jitter


def generate_api_key():
    # ruleid: weak-random-for-secret
    return "%032x" % random.getrandbits(128)


def pick_color():
    # ok: weak-random-for-secret
    return random.choice(["red", "green"])


def encrypt(key: bytes, data: bytes):
    # ruleid: crypto-static-iv-or-nonce
    enc = Cipher(algorithms.AES(key), modes.CBC(b"\x00" * 16)).encryptor()
    # ruleid: crypto-static-iv-or-nonce
    enc2 = Cipher(algorithms.AES(key), modes.CBC(STATIC_IV)).encryptor()
    aead = AESGCM(key)
    # ruleid: crypto-static-iv-or-nonce
    ct = aead.encrypt(b"fixednonce12", data, None)
    # ruleid: crypto-static-iv-or-nonce
    legacy = AES.new(key, AES.MODE_CBC, iv=bytes(16))
    iv = os.urandom(16)
    # ok: crypto-static-iv-or-nonce
    enc3 = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    nonce = os.urandom(12)
    # ok: crypto-static-iv-or-nonce
    ct2 = aead.encrypt(nonce, data, None)
    # ok: crypto-static-iv-or-nonce
    dec = Cipher(algorithms.AES(key), modes.GCM(base64.b64decode(data["iv"]))).decryptor()
    return enc, enc2, ct, legacy, enc3, ct2, dec


def keys(data: bytes):
    # ruleid: crypto-hardcoded-key
    f = Fernet(b"ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=")
    # ruleid: crypto-hardcoded-key
    mac = hmac.new(b"webhook-shared-secret", data, hashlib.sha256).hexdigest()
    # ruleid: crypto-hardcoded-key
    cipher = AES.new("0123456789abcdef".encode(), AES.MODE_GCM)
    # ok: crypto-hardcoded-key
    f2 = Fernet(os.environ["FERNET_KEY"].encode())
    # ok: crypto-hardcoded-key
    mac2 = hmac.new(os.environ["WEBHOOK_SECRET"].encode(), data, hashlib.sha256).hexdigest()
    return f, mac, cipher, f2, mac2
