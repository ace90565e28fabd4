import { Command, Option } from 'commander';
import type { DataAnswer } from '../../shared/responses.js';
import { dataPair, milliseconds } from '../args.js';
import { withCommonOptions, output } from '../context.js';
import { ApiError } from '../errors.js';
import { table } from '../format.js';
import { action, type Io } from './action.js';

/** The data set as `key=value` lines (strings quoted). */
function dataText(d: DataAnswer): string {
  const lines = Object.entries(d.data).map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  return [...lines, `(version ${d.version})`].join('\n');
}

/** `data`, `scene list|activate`, `take`, `chat post|list|delete`. */
export function showCommands(io: Io): Command[] {
  const data = withCommonOptions(
    new Command('data')
      .description('set live data for text placeholders (key=value ...; key=null removes); no pairs: print it')
      .argument('[pairs...]', 'key=value'),
  );
  data.action(
    action(io, async (ctx, pairs: string[]) => {
      if (pairs.length === 0) return output(ctx, await ctx.client.call('getData', {}), dataText);
      const patch = Object.fromEntries(pairs.map(dataPair));
      output(ctx, await ctx.client.call('patchData', { body: patch }), dataText);
    }),
  );

  const scene = new Command('scene').description('named scenes: list, activate');
  const list = withCommonOptions(new Command('list').description('saved scenes and templates; * marks the active one'));
  list.action(
    action(io, async (ctx) => {
      output(ctx, await ctx.client.call('listScenes', {}), (v) =>
        table(
          ['', 'NAME', 'LAYERS', 'KIND'],
          v.scenes.map((s) => [s.name === v.active ? '*' : '', s.name, String(s.layers), s.template ? 'template' : 'saved']),
        ),
      );
    }),
  );
  const activate = withCommonOptions(
    new Command('activate').description("the scene's layers replace the live ones").argument('<name>', 'scene name'),
  )
    .addOption(new Option('--crossfade <ms>', 'crossfade over this long (default: cut)').argParser(milliseconds))
    .addOption(new Option('--easing <name>', 'easing of the crossfade'));
  activate.action(
    action(io, async (ctx, name: string, o: { crossfade?: number; easing?: string }) => {
      const body =
        o.crossfade === undefined
          ? { transition: 'cut' as const }
          : { transition: 'crossfade' as const, durationMs: o.crossfade, ...(o.easing ? { easing: o.easing } : {}) };
      output(
        ctx,
        await ctx.client.call('activateScene', { params: { name }, body }),
        (v) =>
          `${v.active} is live (${v.transition}${v.transition === 'crossfade' ? ` ${o.crossfade} ms` : ''}), ${v.layers.length} layers`,
      );
    }),
  );
  scene.addCommand(list).addCommand(activate);

  const take = withCommonOptions(
    new Command('take').description('studio mode: make the preview scene the program (cut, or --crossfade)'),
  ).addOption(new Option('--crossfade <ms>', 'crossfade over this long (default: cut)').argParser(milliseconds));
  take.action(
    action(io, async (ctx, o: { crossfade?: number }) => {
      const body =
        o.crossfade === undefined ? { transition: 'cut' as const } : { transition: 'crossfade' as const, durationMs: o.crossfade };
      try {
        output(
          ctx,
          await ctx.client.call('take', { body }),
          (v) =>
            `took the preview to program (${v.transition}${v.transition === 'crossfade' ? ` ${v.durationMs} ms` : ''}): ${v.program.length} layers on program, ${v.preview.length} on preview`,
        );
      } catch (err) {
        // No such route (as opposed to an answer of studio mode itself): this server has no studio mode yet.
        if (err instanceof ApiError && (err.code === 'SM_ERR_NOT_FOUND' || err.status === 405 || err.status === 501)) {
          throw new ApiError(
            err.status,
            err.body,
            `This server has no studio mode (POST /stream/take answered ${err.status} ${err.code}): update it to use take`,
          );
        }
        throw err;
      }
    }),
  );

  const chat = new Command('chat').description('chat: post, list, delete');
  const post = withCommonOptions(
    new Command('post').description('post a message').argument('<user>', 'who').argument('<text...>', 'the message'),
  );
  post.action(
    action(io, async (ctx, user: string, text: string[]) => {
      output(ctx, await ctx.client.call('postChat', { body: { user, text: text.join(' ') } }), (m) => `posted ${m.id}`);
    }),
  );
  const chatList = withCommonOptions(new Command('list').description('the last 50 messages, oldest first'));
  chatList.action(
    action(io, async (ctx) => {
      output(
        ctx,
        await ctx.client.call('listChat', {}),
        (v) =>
          v.messages.map((m) => `${new Date(m.at).toISOString().slice(11, 19)}  ${m.id}  ${m.user}: ${m.text}`).join('\n') ||
          '(no messages)',
      );
    }),
  );
  const remove = withCommonOptions(new Command('delete').description('delete a message').argument('<id>', 'message id'));
  remove.action(
    action(io, async (ctx, id: string) => {
      try {
        output(ctx, await ctx.client.call('deleteChat', { params: { id } }), () => `deleted ${id}`);
      } catch (err) {
        // No such route (as opposed to no such message): this server has no chat moderation yet.
        if (err instanceof ApiError && (err.code === 'SM_ERR_NOT_FOUND' || err.status === 405)) {
          throw new ApiError(
            err.status,
            err.body,
            `This server cannot delete chat messages (DELETE /stream/chat/:id answered ${err.status} ${err.code}): update it to use chat delete`,
          );
        }
        throw err;
      }
    }),
  );
  chat.addCommand(post).addCommand(chatList).addCommand(remove);
  return [data, scene, take, chat];
}
