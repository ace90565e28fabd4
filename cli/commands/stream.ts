import { Command } from 'commander';
import { withCommonOptions, output } from '../context.js';
import { statusText, streamLine } from '../format.js';
import { action, type Io } from './action.js';

/** `status`, `start`, `stop`, `pause`, `resume`, `reset`, `openapi`. */
export function streamCommands(io: Io): Command[] {
  const status = withCommonOptions(new Command('status').description('the stream state (fps, frames, drops) and every output'));
  status.action(
    action(io, async (ctx) => {
      output(ctx, await ctx.client.call('getStatus', {}), statusText);
    }),
  );
  const control = (name: 'start' | 'stop' | 'pause' | 'resume' | 'reset', what: string): Command =>
    withCommonOptions(new Command(name).description(what)).action(
      action(io, async (ctx) => {
        output(ctx, await ctx.client.call(name, {}), streamLine);
      }),
    );
  const openapi = withCommonOptions(new Command('openapi').description('print the OpenAPI document of the server (GET /openapi.json)'));
  openapi.action(
    action(io, async (ctx) => {
      const doc = await ctx.client.call('getOpenApi', {});
      ctx.print(ctx.json ? JSON.stringify(doc) : JSON.stringify(doc, null, 2));
    }),
  );
  return [
    status,
    control('start', 'go live: spawn ffmpeg, start the frame clock'),
    control('stop', 'stop; ffmpeg finishes the file'),
    control('pause', 'hold the last frame in the output'),
    control('resume', 'go on after a pause'),
    control('reset', 'stop if live, zero the counters, clear the error'),
    openapi,
  ];
}
