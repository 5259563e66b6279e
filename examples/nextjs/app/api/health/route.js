// The App Router serves this file's handlers under the folder's path.
export function GET() {
  return Response.json({ status: "ok" });
}
