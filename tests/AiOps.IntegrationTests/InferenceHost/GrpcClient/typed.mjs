// Drives FP16, BF16 and BYTES through inference.GRPCInferenceService with @grpc/grpc-js and prints one JSON object of
// what the server answered. Usage: node typed.mjs <proto> <host:port>
// Models: fp16 (a, b: FP16[batch, 3] -> y = a, sum = a + b), bf16 (x: BF16[batch, 2] -> y = x), strings (s: BYTES[batch, 2] -> o = s).
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const [proto, address] = process.argv.slice(2);
const definition = protoLoader.loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const inference = grpc.loadPackageDefinition(definition).inference;
const client = new inference.GRPCInferenceService(address, grpc.credentials.createInsecure());
const call = (method, request) => new Promise((resolve) => {
  client[method](request, (error, response) => resolve(error ? { error: { code: grpc.status[error.code], details: error.details } } : response));
});

const u16 = (values) => Buffer.from(new Uint16Array(values).buffer);
const readU16 = (buffer) => Array.from({ length: buffer.byteLength / 2 }, (_, i) => buffer.readUInt16LE(i * 2));
// Triton's BYTES serialisation: a 4-byte little-endian length, then the bytes, per element.
const lengthPrefixed = (strings) => Buffer.concat(strings.flatMap((s) => {
  const bytes = Buffer.from(s, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bytes.length);
  return [length, bytes];
}));
const readStrings = (buffer) => {
  const out = [];
  for (let at = 0; at < buffer.byteLength;) {
    const n = buffer.readUInt32LE(at);
    out.push(buffer.subarray(at + 4, at + 4 + n).toString('utf8'));
    at += 4 + n;
  }
  return out;
};
const tensors = (answer, read) => answer.error ?? Object.fromEntries(answer.outputs.map((o, i) => [o.name, { datatype: o.datatype, shape: o.shape, values: read(answer.raw_output_contents[i]) }]));

const result = {};
for (const model of ['fp16', 'bf16', 'strings']) {
  result[`${model}Metadata`] = await call('ModelMetadata', { name: model, version: '' });
}

// 1, -0.5, 65504 and 0.25, 0.25, -1 as float16 bits.
result.fp16 = tensors(await call('ModelInfer', {
  model_name: 'fp16',
  inputs: [{ name: 'a', datatype: 'FP16', shape: [1, 3] }, { name: 'b', datatype: 'FP16', shape: [1, 3] }],
  raw_input_contents: [u16([0x3C00, 0xB800, 0x7BFF]), u16([0x3400, 0x3400, 0xBC00])],
}), readU16);
result.fp16Typed = await call('ModelInfer', {
  model_name: 'fp16',
  inputs: [{ name: 'a', datatype: 'FP16', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } }, { name: 'b', datatype: 'FP16', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } }],
});
// 1.5, -3.140625, a subnormal, -0 as bfloat16 bits.
result.bf16 = tensors(await call('ModelInfer', {
  model_name: 'bf16', inputs: [{ name: 'x', datatype: 'BF16', shape: [2, 2] }], raw_input_contents: [u16([0x3FC0, 0xC049, 0x0001, 0x8000])],
}), readU16);
const words = ['héllo', '', '日本語', '🦤'];
result.bytesContents = tensors(await call('ModelInfer', {
  model_name: 'strings', inputs: [{ name: 's', datatype: 'BYTES', shape: [2, 2], contents: { bytes_contents: words.map((w) => Buffer.from(w, 'utf8')) } }],
}), readStrings);
result.bytesRaw = tensors(await call('ModelInfer', {
  model_name: 'strings', inputs: [{ name: 's', datatype: 'BYTES', shape: [2, 2] }], raw_input_contents: [lengthPrefixed(words)],
}), readStrings);
result.bytesNotUtf8 = await call('ModelInfer', {
  model_name: 'strings', inputs: [{ name: 's', datatype: 'BYTES', shape: [1, 2], contents: { bytes_contents: [Buffer.from('ok'), Buffer.from([0xff, 0xfe])] } }],
});
client.close();
process.stdout.write(JSON.stringify(result));
