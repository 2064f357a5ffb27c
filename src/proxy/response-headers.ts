/** Sets (or, with null, deletes) headers on a response; copies it first when its headers are immutable (fetched responses on Workers). */
export function withHeaders(response: Response, headers: Record<string, string | null>): Response {
  try {
    apply(response.headers, headers);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    apply(copy.headers, headers);
    return copy;
  }
}

function apply(target: Headers, headers: Record<string, string | null>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (value === null) target.delete(name);
    else target.set(name, value);
  }
}
