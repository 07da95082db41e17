// The project's layers (docs/DESIGN.md, "Layout"), as data for eslint.config.js and its probe test.
// A layer may import the layers listed for it (and itself); anything else under core/ is
// refused by `no-restricted-imports`.

/** Core layers in dependency order, each with the core layers it may import. */
export const LAYER_IMPORTS = {
  api: [],
  io: ['api'],
  crypto: ['api', 'io'],
  formats: ['api', 'io', 'crypto'],
  jobs: ['api', 'io', 'crypto', 'formats'],
  libvirt: ['api', 'io', 'crypto'],
  service: ['api', 'io', 'crypto', 'formats', 'jobs', 'libvirt', 'web'],
  // What the two web-content faces (server, electron) share: headers, CSP, static files.
  web: ['api'],
  server: ['api', 'io', 'crypto', 'formats', 'jobs', 'libvirt', 'service', 'web'],
  cli: ['api', 'io', 'crypto', 'formats', 'jobs', 'libvirt', 'service', 'web', 'server'],
};

export const CORE_LAYERS = Object.keys(LAYER_IMPORTS);
/** Test helpers: imported by tests only. */
const TEST_ONLY = ['testing'];
/** The one core module allowed to import `node:crypto` (docs/DESIGN.md constraint 2). */
export const NODE_CRYPTO_DOOR = 'core/crypto/node-crypto.ts';

const NODE_CRYPTO = [
  { name: 'node:crypto', message: `core reaches node:crypto only through ${NODE_CRYPTO_DOOR}` },
  { name: 'crypto', message: `core reaches node:crypto only through ${NODE_CRYPTO_DOOR}` },
];
const UI_LIBS = ['electron', 'react', 'react-dom', 'zustand'].map((name) => ({
  name,
  message: 'core is UI-free: no electron, react or zustand',
}));

/** `no-restricted-imports` options for one zone: a core layer, 'electron' or 'renderer'. */
export function layerZone(zone) {
  if (zone === 'renderer') {
    return {
      paths: [{ name: 'electron', message: 'the renderer talks to main only through the bridge' }],
      patterns: [
        { regex: '^node:', message: 'the renderer runs in a browser: no Node modules' },
        { regex: '(^|/)core/(?!api/)', message: 'the renderer imports only core/api' },
        { regex: '(^|/)electron/', message: 'the renderer imports only core/api' },
      ],
    };
  }
  if (zone === 'electron') {
    return {
      paths: UI_LIBS.filter((p) => p.name !== 'electron'),
      patterns: [
        {
          regex: '(^|/)core/(?!api/|service/|web/)',
          message: 'electron/ calls core through core/api, core/service and core/web only',
        },
        { regex: '(^|/)renderer/', message: 'electron/ does not import the renderer' },
      ],
    };
  }
  const allowed = new Set([zone, ...LAYER_IMPORTS[zone]]);
  const refused = [...CORE_LAYERS, ...TEST_ONLY].filter((l) => !allowed.has(l));
  return {
    paths: [...NODE_CRYPTO, ...UI_LIBS],
    patterns: [
      {
        regex: `^(\\.\\./)+(core/)?(${refused.join('|')})(/|$)`,
        message: `core/${zone} may import only ${[...allowed].sort().join(', ')} (docs/DESIGN.md, Layout)`,
      },
      { regex: '(^|/)(renderer|electron)/', message: 'core never imports a face' },
    ],
  };
}
