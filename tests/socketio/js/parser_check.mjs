// socket.io-parser's Decoder (the one socket.io 4.8 uses) as a referee: stdin is one JSON
// string per line (a text packet); each answer line is "ok" or the decoder's error. A
// binary packet is handed as many 1-byte attachments as its header announces, so its
// placeholders are checked too.
import { createInterface } from "node:readline";
import { Decoder } from "socket.io-parser";

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const decoder = new Decoder();
  let answer = "ok";
  decoder.on("decoded", () => {});
  try {
    decoder.add(JSON.parse(line));
    const pending = decoder.reconstructor;
    if (pending) {
      const count = pending.reconPack.attachments;
      for (let k = 0; k < count; k++) decoder.add(Buffer.from([k]));
    }
  } catch (err) {
    answer = `error: ${err.message}`;
  }
  process.stdout.write(answer + "\n");
}
