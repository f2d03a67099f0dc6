import { expose } from 'comlink';
import { engineApi } from './engine-api.ts';
import { registerSlideErrorTransfer } from '../shared/comlink-errors.ts';

registerSlideErrorTransfer();
expose(engineApi);
