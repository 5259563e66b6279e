const fastify = require("fastify")({ logger: true });

fastify.get("/health", async () => ({ status: "ok" }));

fastify.listen({ port: Number(process.env.PORT) || 4000, host: "0.0.0.0" }).catch((error) => {
  fastify.log.error(error);
  process.exit(1);
});
