/** Renderer entry: pick the bridge, then render. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectBridge } from './bridge/index.js';
import { App, Locked, NoBridge } from './app/App.js';
import './styles/app.css';

const mode = connectBridge();
const root = createRoot(document.getElementById('root')!);
const screens = {
  locked: <Locked />,
  'no-bridge': <NoBridge />,
  electron: <App />,
  loopback: <App />,
};
root.render(<StrictMode>{screens[mode]}</StrictMode>);
