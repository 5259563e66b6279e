const { Pool } = require("pg");

// One pool for the process; DATABASE_URL points at the notes database.
const pool = new Pool({ connectionString: process.env.DATABASE_URL });

async function migrate() {
  await pool.query("CREATE TABLE IF NOT EXISTS notes (id SERIAL PRIMARY KEY, body TEXT NOT NULL)");
}

module.exports = { pool, migrate };
