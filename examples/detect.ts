/**
 * Detect objects in an image with the default model and draw the boxes.
 *
 *   npx ts-node examples/detect.ts [path/to/image.jpg [out.jpg [model]]]
 *
 * Without a model name, the embedded Yolo-Fastest 1.1 COCO runs (no download). A registry name
 * (e.g. yolo-fastestv2-coco) comes from the cache ($YOLO_TFJS_CACHE, default
 * ~/.cache/yolo-tfjs), downloaded from the original authors' release on first use.
 */
import { load, drawDetections } from '../src';

async function main(): Promise<void> {
  const [image = 'examples/images/dog.jpg', out = 'detections.jpg', model] = process.argv.slice(2);
  const detector = await load(model);
  const dets = await detector.detect(image);
  for (const d of dets) {
    console.log(`${d.label.padEnd(12)} ${d.score.toFixed(3)}  [${d.box.map((v) => v.toFixed(1)).join(', ')}]`);
  }
  await drawDetections(image, dets, out);
  console.log(`wrote ${out}`);
  detector.dispose();
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
