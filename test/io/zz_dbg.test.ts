import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import { fsFolderHandler } from '../../src/io/fsFolderHandler';
test('dbg', async () => {
  const dir = '/tmp/dbgmodel';
  const server = http.createServer((req, res) => { res.writeHead(200).end(fs.readFileSync(dir + '/' + req.url!.split('/').pop())); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const h = tf.io.http(`${base}/models/model.json`);
  const a1 = await h.load!();
  const a2 = await fsFolderHandler(dir).load();
  console.log(Object.keys(a1), Object.keys(a2));
  console.log(JSON.stringify(a1.modelTopology) === JSON.stringify(a2.modelTopology));
  try { await tf.loadLayersModel({ load: async () => a2 }); console.log('fs ok'); } catch (e) { console.log('fs', (e as Error).message); }
  try { await tf.loadLayersModel({ load: async () => a1 }); console.log('http ok'); } catch (e) { console.log('http', (e as Error).message); }
  try { await tf.loadLayersModel(`${base}/models/model.json`); console.log('url ok'); } catch (e) { console.log('url', (e as Error).message); }
  server.close();
});
