/** Renderer entry: pick the bridge (and, in `serve`, resume or start the session), then render. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectBridge } from './bridge/index.js';
import { App, Locked, NoBridge } from './app/App.js';
import './styles/app.css';

const root = createRoot(document.getElementById('root')!);
const mode = await connectBridge();
const screens = {
  locked: <Locked />,
  'no-bridge': <NoBridge />,
  electron: <App />,
  loopback: <App />,
};
root.render(<StrictMode>{screens[mode]}</StrictMode>);
