import os

import redis
from flask import Flask, jsonify

app = Flask(__name__)
cache = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))


@app.get("/health")
def health():
    cache.ping()
    return jsonify(status="ok")


@app.get("/")
def visits():
    count = cache.incr("visits")
    return jsonify(visits=count)


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", 5000)))
