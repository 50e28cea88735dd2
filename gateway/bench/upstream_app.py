"""The trivial upstream every benchmark target calls: one small JSON answer.

A Flask app on gunicorn, like polyshop's services, so "direct" means what a
client of a service would see without the gateway.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/bench/hello")
@app.get("/signed/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}
