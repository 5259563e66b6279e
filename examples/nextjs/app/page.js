export default function Home() {
  const greeting = process.env.NEXT_PUBLIC_GREETING || "Hello from Next.js";
  return <main>{greeting}</main>;
}
