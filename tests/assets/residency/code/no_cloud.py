# No cloud SDK here: never handed to semgrep.
def add(a, b):
    return a + b
