/** The OneNET protocol core: pure functions and types, no I/O. */
export * from './limits';
export * from './token';
export * from './topics';
export * from './validation';
export * from './messages';
export * from './reply-codes';
export * from './thing-model';
export * from './tsl-types';
export * from './tsl-import';
export * from './tsl-check';
export * from './batch-posts';
export * from './gateway';
export * from './gateway-commands';
export * from './gateway-token';
export * from './desired';
