# Semgrep test target for policies/semgrep/deserialization.yaml (deliberately insecure snippets).
import cloudpickle
import joblib
import numpy as np
import yaml
from tensorflow import keras


class SafeLineLoader(yaml.SafeLoader):
    pass


def load_artifacts(path, blob, stream):
    # ruleid: unsafe-deserialization-loader
    arr = np.load(path, allow_pickle=True)
    # ruleid: unsafe-deserialization-loader
    model = joblib.load(path)
    # ruleid: unsafe-deserialization-loader
    fn = cloudpickle.loads(blob)
    # ruleid: unsafe-deserialization-loader
    net = keras.models.load_model(path, safe_mode=False)
    # ruleid: unsafe-deserialization-loader
    cfg = yaml.unsafe_load(stream)
    # ruleid: unsafe-deserialization-loader
    docs = list(yaml.load_all(stream, Loader=yaml.Loader))
    # ok: unsafe-deserialization-loader
    arr2 = np.load(path, allow_pickle=False)
    # ok: unsafe-deserialization-loader
    arr3 = np.load(path)
    # ok: unsafe-deserialization-loader
    net2 = keras.models.load_model(path)
    # ok: unsafe-deserialization-loader
    docs2 = list(yaml.load_all(stream, Loader=yaml.SafeLoader))
    # ok: unsafe-deserialization-loader
    cfg2 = yaml.safe_load(stream)
    # ok: unsafe-deserialization-loader
    docs3 = list(yaml.load_all(stream, Loader=SafeLineLoader))
    return arr, model, fn, net, cfg, docs, arr2, arr3, net2, docs2, cfg2, docs3
