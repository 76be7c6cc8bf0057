"""The ceiling: a bare Flask JSON endpoint, served by gunicorn exactly as the service is.

gunicorn -w 2 bench.bare:app
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def bare():
    return {"status": "ok"}
