const Redis = require("ioredis");

const redis = new Redis(process.env.REDIS_URL);
const queue = process.env.QUEUE_NAME || "jobs";

async function loop() {
  for (;;) {
    const [, job] = await redis.brpop(queue, 0);
    console.log(`processed job ${job}`);
  }
}

loop().catch((error) => {
  console.error(error);
  process.exit(1);
});
