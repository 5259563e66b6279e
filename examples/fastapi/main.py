import os

from fastapi import FastAPI

app = FastAPI()
GREETING = os.getenv("GREETING", "hello")


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/")
def root():
    return {"message": GREETING}
