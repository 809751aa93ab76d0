/**
 * Finds an installed native TensorFlow binding for Node (`@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node`). Both are optional peers: absent is normal and silent; present but
 * broken (native library fails to load, or a different tfjs-core copy so the `tensorflow`
 * backend never reaches our engine) is reported. The loader is injectable for tests.
 * Browser-safe (it never runs there: the caller checks for Node first).
 */
import { isModuleNotFound, ModuleLoader } from '../util/nodeRequire';

/** One package tried. */
export interface NativeAttempt {
  package: string;
  /** `not installed`, or why an installed package could not be used. */
  reason: string;
  /** True when the package is installed but unusable (worth a warning). */
  broken: boolean;
}

/** Result of {@link loadNativeBackend}. */
export interface NativeBackendChoice {
  /** The package whose `tensorflow` backend is now registered, or undefined. */
  package?: string;
  attempts: NativeAttempt[];
}

/**
 * Loads the first package of `packages` that registers the tfjs backend `tensorflow`.
 * @param load module loader (`require` in Node; a mock in tests).
 * @param isRegistered tells whether tfjs knows a backend name (normally
 *   `name => tf.findBackendFactory(name) != null`).
 */
export function loadNativeBackend(
  packages: readonly string[],
  load: ModuleLoader,
  isRegistered: (name: string) => boolean,
): NativeBackendChoice {
  const attempts: NativeAttempt[] = [];
  for (const pkg of packages) {
    try {
      load(pkg);
    } catch (e) {
      if (isModuleNotFound(e, pkg)) {
        attempts.push({ package: pkg, reason: 'not installed', broken: false });
      } else {
        const msg = (e as Error)?.message ?? String(e);
        attempts.push({ package: pkg, reason: `failed to load: ${firstLine(msg)}`, broken: true });
      }
      continue;
    }
    if (isRegistered('tensorflow')) return { package: pkg, attempts };
    attempts.push({
      package: pkg,
      reason:
        "loaded but the 'tensorflow' backend is not registered with this @tensorflow/tfjs " +
        '(different tfjs-core copy or version?)',
      broken: true,
    });
  }
  return { attempts };
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}
