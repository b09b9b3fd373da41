// Drives inference.GRPCInferenceService with @grpc/grpc-js and the protocol's .proto, and prints one JSON object of
// what the server answered. Usage: node client.mjs <proto> <host:port> <model> <features comma-separated> <rows>
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const [proto, address, model, featuresText, rowsText] = process.argv.slice(2);
const definition = protoLoader.loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const inference = grpc.loadPackageDefinition(definition).inference;
const client = new inference.GRPCInferenceService(address, grpc.credentials.createInsecure());
const call = (method, request) => new Promise((resolve) => {
  client[method](request, (error, response) => resolve(error ? { error: { code: grpc.status[error.code], details: error.details } } : response));
});

const features = featuresText.split(',').map(Number);
const rows = Number(rowsText);
const floats = (buffer) => Array.from({ length: buffer.byteLength / 4 }, (_, i) => buffer.readFloatLE(i * 4));
const raw = Buffer.from(new Float32Array(features).buffer);

const result = {};
result.live = await call('ServerLive', {});
result.ready = await call('ServerReady', {});
result.server = await call('ServerMetadata', {});
result.metadata = await call('ModelMetadata', { name: model, version: '' });
result.modelReady = await call('ModelReady', { name: model, version: '2' });
const typed = await call('ModelInfer', {
  model_name: model, id: 'js-1',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [rows, 4], contents: { fp32_contents: features } }],
});
result.typed = typed.error ?? { model_version: typed.model_version, id: typed.id, outputs: typed.outputs, values: floats(typed.raw_output_contents[0]) };
const rawAnswer = await call('ModelInfer', {
  model_name: model, model_version: '2',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [rows, 4] }], raw_input_contents: [raw],
});
result.raw = rawAnswer.error ?? { model_version: rawAnswer.model_version, values: floats(rawAnswer.raw_output_contents[0]) };
const many = Array.from({ length: 5000 }, (_, i) => ({ name: `x${i}`, datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }));
result.tooManyInputs = await call('ModelInfer', { model_name: model, inputs: many });
result.badDatatype = await call('ModelInfer', { model_name: model, inputs: [{ name: 'features', datatype: 'FP8', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }] });
result.unknownModel = await call('ModelInfer', { model_name: 'nope', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }] });
client.close();
process.stdout.write(JSON.stringify(result));
