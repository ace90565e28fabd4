import { Argument, Command, Option } from 'commander';
import { OutputKindSchema, type OutputView } from '../../shared/outputs.js';
import { X264_PRESETS } from '../../shared/stream-config.js';
import { number } from '../args.js';
import { withCommonOptions, output } from '../context.js';
import { outputsTable } from '../format.js';
import { action, type Io } from './action.js';

const line = (o: OutputView): string =>
  `${o.id}: ${o.kind} ${o.state}${o.enabled ? '' : ' (disabled)'} ${o.location ?? o.url ?? ''}`.trim();

/** `outputs list|add|remove|start|stop`. */
export function outputCommands(io: Io): Command {
  const outputs = new Command('outputs').description('outputs: list, add, remove, start, stop');
  const list = withCommonOptions(new Command('list').description('main first, then the extra outputs'));
  list.action(
    action(io, async (ctx) => {
      output(ctx, await ctx.client.call('listOutputs', {}), (v) => outputsTable(v.outputs));
    }),
  );
  const add = withCommonOptions(
    new Command('add')
      .description('add an output (admin); starts at once when live')
      .argument('<id>', 'output id')
      .addArgument(new Argument('<kind>', 'what it is').choices(OutputKindSchema.options))
      .argument('[where]', 'rtmp(s):// or srt:// URL, or a file path (.mp4, .mkv, .flv, .ts); none for hls'),
  )
    .addOption(new Option('--bitrate <kbps>', 'video bitrate, kbit/s').argParser(number))
    .addOption(new Option('--preset <preset>', 'x264 preset').choices(X264_PRESETS))
    .addOption(new Option('--disabled', 'add it stopped'));
  add.action(
    action(
      io,
      async (
        ctx,
        id: string,
        kind: OutputView['kind'],
        where: string | undefined,
        o: { bitrate?: number; preset?: (typeof X264_PRESETS)[number]; disabled?: boolean },
      ) => {
        const encoder = { ...(o.bitrate === undefined ? {} : { bitrateKbps: o.bitrate }), ...(o.preset ? { preset: o.preset } : {}) };
        const body = {
          id,
          kind,
          ...(where === undefined ? {} : { url: where }),
          ...(o.disabled ? { enabled: false } : {}),
          ...(Object.keys(encoder).length ? { encoder } : {}),
        };
        output(ctx, await ctx.client.call('createOutput', { body }), line);
      },
    ),
  );
  const remove = withCommonOptions(
    new Command('remove').description('remove an output (admin); a recording is finished first').argument('<id>', 'output id'),
  );
  remove.action(
    action(io, async (ctx, id: string) => {
      output(ctx, await ctx.client.call('deleteOutput', { params: { id } }), () => `removed ${id}`);
    }),
  );
  const toggle = (name: 'start' | 'stop'): Command =>
    withCommonOptions(
      new Command(name).description(`${name === 'start' ? 'enable' : 'disable'} one output`).argument('<id>', 'output id'),
    ).action(
      action(io, async (ctx, id: string) => {
        output(ctx, await ctx.client.call(name === 'start' ? 'startOutput' : 'stopOutput', { params: { id } }), line);
      }),
    );
  return outputs.addCommand(list).addCommand(add).addCommand(remove).addCommand(toggle('start')).addCommand(toggle('stop'));
}
