# Semgrep test target for policies/semgrep/files.yaml (deliberately insecure snippets).
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

from flask import Flask, request, send_file, send_from_directory
from werkzeug.utils import secure_filename

app = Flask(__name__)
BASE_DIR = "/srv/app/reports"
UPLOAD_DIR = "/srv/app/uploads"


@app.get("/reports/download")
def download_report():
    name = request.args.get("name")
    path = os.path.join(BASE_DIR, name)
    # ruleid: path-traversal-user-input
    return send_file(path)


@app.get("/reports/raw")
def raw_report():
    # ruleid: path-traversal-user-input
    with open(os.path.join(BASE_DIR, request.args["file"])) as fh:
        return fh.read()


@app.post("/upload")
def upload():
    f = request.files["document"]
    # ruleid: path-traversal-user-input
    f.save(os.path.join(UPLOAD_DIR, f.filename))
    # ok: path-traversal-user-input
    f.save(os.path.join(UPLOAD_DIR, secure_filename(f.filename)))
    return "ok"


@app.delete("/reports")
def delete_report():
    # ruleid: path-traversal-user-input
    os.remove(Path(BASE_DIR) / request.get_json()["name"])
    return "", 204


@app.get("/reports/safe")
def safe_report():
    name = request.args.get("name")
    # ok: path-traversal-user-input
    a = send_from_directory(BASE_DIR, name)
    # ok: path-traversal-user-input
    b = send_file(os.path.join(BASE_DIR, os.path.basename(name)))
    full = os.path.realpath(os.path.join(BASE_DIR, name))
    if not full.startswith(BASE_DIR + os.sep):
        return "forbidden", 403
    # ok: path-traversal-user-input
    c = send_file(full)
    # ok: path-traversal-user-input
    d = open(os.path.join(BASE_DIR, "index.txt")).read()
    return a or b or c or d


def restore_backup(archive_path, dest):
    # ruleid: archive-extraction-path-traversal
    shutil.unpack_archive(archive_path, dest)
    # ok: archive-extraction-path-traversal
    shutil.unpack_archive(archive_path, dest, filter="data")
    with tarfile.open(archive_path) as tar:
        for member in tar.getmembers():
            # ruleid: archive-extraction-path-traversal
            tar.extract(member, dest)
            # ok: archive-extraction-path-traversal
            tar.extract(member, dest, filter="data")


def unzip_by_hand(archive_path, dest):
    with zipfile.ZipFile(archive_path) as zf:
        for name in zf.namelist():
            # ruleid: archive-extraction-path-traversal
            with open(os.path.join(dest, name), "wb") as out:
                out.write(zf.read(name))
        for info in zf.infolist():
            # ok: archive-extraction-path-traversal
            with open(os.path.join(dest, os.path.basename(info.filename)), "wb") as out:
                out.write(zf.read(info))
        for name in zf.namelist():
            target = os.path.realpath(os.path.join(dest, name))
            if not target.startswith(os.path.realpath(dest) + os.sep):
                raise ValueError(name)
            # ok: archive-extraction-path-traversal
            with open(os.path.join(dest, name), "wb") as out:
                out.write(zf.read(name))
        # ok: archive-extraction-path-traversal
        zf.extractall(dest)
