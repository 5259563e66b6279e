const express = require("express");
const { pool, migrate } = require("./db");

const app = express();
app.use(express.json());

app.get("/healthz", async (_req, res) => {
  await pool.query("SELECT 1");
  res.json({ status: "ok" });
});

app.get("/notes", async (_req, res) => {
  const { rows } = await pool.query("SELECT id, body FROM notes ORDER BY id");
  res.json(rows);
});

app.post("/notes", async (req, res) => {
  const { rows } = await pool.query("INSERT INTO notes (body) VALUES ($1) RETURNING id, body", [req.body.body]);
  res.status(201).json(rows[0]);
});

const port = process.env.PORT || 3000;
const logLevel = process.env.LOG_LEVEL ?? "info";

migrate().then(() => {
  app.listen(port, () => console.log(`notes listening on ${port} (log level ${logLevel})`));
});
