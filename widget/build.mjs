// Bundles the widget and socket.io-client into one minified file, plus its gzip twin
// (served when the browser accepts gzip). Usage: npm run build
import { build, transform } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";

const outfile = "dist/synapse-chat.js";

// The stylesheet is imported as a string (adopted into the widget's shadow root): minify it.
const minifiedCss = {
  name: "minified-css",
  setup(builder) {
    builder.onLoad({ filter: /\.css$/ }, async (args) => {
      const { code } = await transform(await readFile(args.path, "utf8"), { loader: "css", minify: true });
      return { contents: code, loader: "text" };
    });
  },
};

await build({
  entryPoints: ["src/index.ts"],
  outfile,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020", "chrome90", "firefox90", "safari15"],
  plugins: [minifiedCss],
  legalComments: "eof",
  logLevel: "warning",
});

const code = readFileSync(outfile);
writeFileSync(`${outfile}.gz`, gzipSync(code, { level: 9 }));
console.log(`${outfile}: ${code.length} bytes, ${gzipSync(code, { level: 9 }).length} gzipped`);
