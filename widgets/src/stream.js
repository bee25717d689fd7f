// A small server-sent events parser over a fetch() body, since EventSource cannot POST.

/** Parse one SSE block ("event: x\ndata: {...}") into {event, data}; null for comments/heartbeats. */
export function parseBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line[0] === ":") continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  const text = data.join("\n");
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: text };
  }
}

/**
 * Read a text/event-stream body and call onEvent(name, data) for each event, in order.
 * Resolves when the stream ends; rejects on network errors or abort.
 */
export async function readEvents(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const flush = (final) => {
    buffer = buffer.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const parsed = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (parsed) onEvent(parsed.event, parsed.data);
    }
    if (final && buffer.trim()) {
      const parsed = parseBlock(buffer);
      buffer = "";
      if (parsed) onEvent(parsed.event, parsed.data);
    }
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    // A chunk may end between "\r" and "\n": keep a trailing "\r" for the next round.
    buffer += decoder.decode(value, { stream: true });
    if (!buffer.endsWith("\r")) flush(false);
  }
  buffer += decoder.decode();
  flush(true);
}
