/**
 * The yardstick of `npm run bench`'s inbound part: a bare grammY bot in webhook mode that answers
 * every message and button press with a text and a two-button keyboard. Plain JavaScript, so
 * nothing is compiled at start-up. Environment: TOKEN, API_ROOT, PORT, SECRET.
 */
import http from 'node:http';
import { Bot, webhookCallback } from 'grammy';

const bot = new Bot(process.env.TOKEN, { client: { apiRoot: process.env.API_ROOT } });
const keyboard = { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }, { text: 'No', callback_data: 'no' }]] };
bot.on('message', (ctx) => ctx.reply(`echo: ${ctx.message.text ?? ''}`, { reply_markup: keyboard }));
bot.on('callback_query', async (ctx) => {
  await ctx.answerCallbackQuery();
  await ctx.reply(`pressed ${ctx.callbackQuery.data}`, { reply_markup: keyboard });
});
await bot.init();
const handle = webhookCallback(bot, 'http', { secretToken: process.env.SECRET });
http
  .createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true,"channels":{"telegram":"webhook"}}');
      return;
    }
    // A failed send is reported, not fatal: the benchmark counts the update as unanswered.
    handle(req, res).catch((error) => {
      process.stderr.write(`echo bot: ${error.message}${error.error ? ` (${error.error.message}: ${error.error.cause?.code ?? ''})` : ''}\n`);
      if (!res.headersSent) res.writeHead(200).end();
    });
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
