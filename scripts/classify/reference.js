// The JavaScript reference for vouch classify: nsfwjs's own code on the tfjs
// CPU backend under node, fed raw pixels (so both sides see the exact same
// decoded image and the comparison is about the network, not JPEG decoders).
//
//   node reference.js NODE_MODULES_DIR MANIFEST [--bench REPEAT]
//
// MANIFEST: one image per line, "WIDTH HEIGHT PATH" where PATH holds
// WIDTH*HEIGHT*3 bytes of 8-bit RGB.  Prints one JSON object per image:
//   {"path":..., "probabilities":[drawing, hentai, neutral, porn, sexy]}
// With --bench, also times REPEAT calls of classify() per image, in CPU time
// of the node process (tfjs's CPU backend runs on one thread), and prints
//   {"bench_ms_per_image": ...} (mean over all images and calls).
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [nm, manifest, flag, repeatArg] = process.argv.slice(2);
  if (!nm || !manifest) {
    console.error('usage: node reference.js NODE_MODULES_DIR MANIFEST [--bench REPEAT]');
    process.exit(2);
  }
  const repeat = flag === '--bench' ? Math.max(1, parseInt(repeatArg || '5', 10)) : 0;
  const req = (m) => require(path.resolve(nm, m));
  const tf = req('@tensorflow/tfjs');
  const nsfwjs = req('nsfwjs');
  await tf.setBackend('cpu');
  await tf.ready();
  const info = console.info;
  console.info = () => {};                 // nsfwjs prints a banner on load
  const model = await nsfwjs.load('MobileNetV2');
  console.info = info;
  const order = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
  const times = [];
  for (const line of fs.readFileSync(manifest, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const m = line.match(/^(\d+) (\d+) (.+)$/);
    if (!m) throw new Error('bad manifest line: ' + line);
    const w = +m[1], h = +m[2], file = m[3];
    const bytes = fs.readFileSync(file);
    if (bytes.length !== w * h * 3) throw new Error(file + ': expected ' + w * h * 3 + ' bytes');
    const img = tf.tensor3d(Int32Array.from(bytes), [h, w, 3], 'int32');
    const top = await model.classify(img, 5);
    if (repeat) {
      const t0 = process.cpuUsage();
      for (let i = 0; i < repeat; i++) await model.classify(img, 5);
      const t = process.cpuUsage(t0);
      times.push((t.user + t.system) / 1e3 / repeat);
    }
    img.dispose();
    const probs = order.map((name) => top.find((t) => t.className === name).probability);
    process.stdout.write(JSON.stringify({ path: file, probabilities: probs }) + '\n');
  }
  if (repeat) {
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    process.stdout.write(JSON.stringify({ bench_ms_per_image: mean, images: times.length, repeat }) + '\n');
  }
}
main().catch((e) => { console.error(e && e.stack || String(e)); process.exit(1); });
