// Converts the nsfwjs MobileNetV2 weights (TensorFlow.js layers format, as
// shipped in the npm package) into a vouch classifier model file.
//
//   node convert.js NODE_MODULES_DIR OUT.vcm
//
// Reads dist/models/mobilenet_v2/{model,group1-shard1of1}.min.js, dequantises
// the uint8 weights exactly as tfjs does (q * scale + min, computed in double,
// stored as float32), folds each BatchNormalization into the convolution
// before it (w' = w * g / sqrt(v + eps), b' = beta - m * g / sqrt(v + eps)),
// and writes the file format of docs/classify.md ("Model file"):
//   header (104 bytes) | tensor table (n x 4 x u32) | float32 LE data
// with a SHA-256 over header[0..72) || table || data.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

if (process.argv.length !== 4) {
  console.error('usage: node convert.js NODE_MODULES_DIR OUT.vcm');
  process.exit(2);
}
const nm = process.argv[2];
const out = process.argv[3];
const pkg = JSON.parse(fs.readFileSync(path.join(nm, 'nsfwjs', 'package.json'), 'utf8'));
const dir = path.join(nm, 'nsfwjs', 'dist', 'models', 'mobilenet_v2');
const model = require(path.resolve(dir, 'model.min.js'));
const shard = require(path.resolve(dir, 'group1-shard1of1.min.js'));
const bytes = Buffer.from(shard, 'base64');

// ---- dequantise every weight, by name
const W = new Map();
let off = 0;
for (const spec of model.weightsManifest[0].weights) {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  const q = spec.quantization;
  if (spec.dtype !== 'float32') throw new Error('unexpected dtype ' + spec.dtype);
  if (q) {
    if (q.dtype !== 'uint8') throw new Error('unexpected quantization ' + q.dtype);
    for (let i = 0; i < n; i++) v[i] = bytes[off + i] * q.scale + q.min;
    off += n;
  } else {
    for (let i = 0; i < n; i++) v[i] = bytes.readFloatLE(off + 4 * i);
    off += 4 * n;
  }
  W.set(spec.name, { shape: spec.shape, v });
}
if (off !== bytes.length) throw new Error('weight bytes: used ' + off + ' of ' + bytes.length);

// BN epsilon from the topology (all 1e-3 in this model; checked per layer).
const eps = new Map();
for (const l of model.modelTopology.model_config.config.layers)
  if (l.class_name === 'BatchNormalization') eps.set(l.name, l.config.epsilon);

function get(name, shape) {
  const t = W.get(name);
  if (!t) throw new Error('missing weight ' + name);
  if (JSON.stringify(t.shape) !== JSON.stringify(shape))
    throw new Error(name + ': shape ' + JSON.stringify(t.shape) + ' != ' + JSON.stringify(shape));
  return t.v;
}

const tensors = []; // {dims, data: Float32Array}
// kernel: Float32Array whose last axis is the output channel (cout of them)
function convBn(kernelName, kshape, bn, cout) {
  const k = get(kernelName, kshape);
  const g = get(bn + '/gamma', [cout]), b = get(bn + '/beta', [cout]);
  const m = get(bn + '/moving_mean', [cout]), v = get(bn + '/moving_variance', [cout]);
  const e = eps.get(bn);
  if (e === undefined) throw new Error('no BN layer ' + bn);
  const w = new Float32Array(k.length), bias = new Float32Array(cout);
  for (let c = 0; c < cout; c++) {
    const s = g[c] / Math.sqrt(v[c] + e);
    bias[c] = b[c] - m[c] * s;
    for (let i = c; i < k.length; i += cout) w[i] = k[i] * s;
  }
  // stored shapes: 3x3 conv [3,3,cin,cout]; depthwise [3,3,c]; 1x1 conv [cin,cout]
  let dims = kshape;
  if (kernelName.includes('depthwise')) dims = kshape.slice(0, 3);
  else if (kshape[0] === 1) dims = kshape.slice(2);
  tensors.push({ dims, data: w });
  tensors.push({ dims: [cout], data: bias });
}

convBn('Conv1/kernel', [3, 3, 3, 32], 'bn_Conv1', 32);
convBn('expanded_conv_depthwise/depthwise_kernel', [3, 3, 32, 1], 'expanded_conv_depthwise_BN', 32);
convBn('expanded_conv_project/kernel', [1, 1, 32, 16], 'expanded_conv_project_BN', 16);
// (expansion, output channels, stride) of blocks 1..16, as in Keras MobileNetV2
const blocks = [[24, 2], [24, 1], [32, 2], [32, 1], [32, 1], [64, 2], [64, 1], [64, 1], [64, 1],
  [96, 1], [96, 1], [96, 1], [160, 2], [160, 1], [160, 1], [320, 1]];
let cin = 16;
blocks.forEach(([c], i) => {
  const p = 'block_' + (i + 1) + '_', ce = cin * 6;
  convBn(p + 'expand/kernel', [1, 1, cin, ce], p + 'expand_BN', ce);
  convBn(p + 'depthwise/depthwise_kernel', [3, 3, ce, 1], p + 'depthwise_BN', ce);
  convBn(p + 'project/kernel', [1, 1, ce, c], p + 'project_BN', c);
  cin = c;
});
convBn('Conv_1/kernel', [1, 1, 320, 1280], 'Conv_1_bn', 1280);
for (const [name, a, b] of [['dense_1', 1280, 256], ['dense_2', 256, 128], ['dense_3', 128, 5]]) {
  tensors.push({ dims: [a, b], data: get(name + '/kernel', [a, b]) });
  tensors.push({ dims: [b], data: get(name + '/bias', [b]) });
}

// ---- write
const nfloat = tensors.reduce((a, t) => a + t.data.length, 0);
const table = Buffer.alloc(16 * tensors.length);
tensors.forEach((t, i) => {
  if (t.dims.length > 4) throw new Error('rank');
  t.dims.forEach((d, j) => table.writeUInt32LE(d, 16 * i + 4 * j));
  if (t.dims.reduce((a, b) => a * b, 1) !== t.data.length) throw new Error('size of tensor ' + i);
});
const data = Buffer.alloc(4 * nfloat);
let o = 0;
for (const t of tensors) for (const x of t.data) { data.writeFloatLE(x, o); o += 4; }
const hdr = Buffer.alloc(104);
hdr.write('VOUCHCLS', 0, 'latin1');
hdr.writeUInt32LE(1, 8);            // format version
hdr.writeUInt32LE(1, 12);           // architecture: MobileNetV2 (alpha 1) + dense 256/128/classes
hdr.writeUInt32LE(224, 16);         // input side
hdr.writeUInt32LE(5, 20);           // classes
hdr.writeUInt32LE(tensors.length, 24);
hdr.writeUInt32LE(0, 28);
hdr.writeBigUInt64LE(BigInt(table.length + data.length), 32);
hdr.write(('nsfwjs ' + pkg.version + ' MobileNetV2').slice(0, 31), 40, 'latin1');
const h = crypto.createHash('sha256');
h.update(hdr.subarray(0, 72)); h.update(table); h.update(data);
h.digest().copy(hdr, 72);
const tmp = out + '.tmp' + process.pid;
fs.writeFileSync(tmp, Buffer.concat([hdr, table, data]));
fs.renameSync(tmp, out);
console.log(`${out}: ${tensors.length} tensors, ${nfloat} parameters, ${104 + table.length + data.length} bytes (nsfwjs ${pkg.version})`);
