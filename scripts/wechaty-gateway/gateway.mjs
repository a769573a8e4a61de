#!/usr/bin/env node
/**
 * Siyu Companion's loopback Wechaty gateway: a scripted WeChat community for tests and the sandbox.
 *
 * Why this exists: the python-wechaty client can only be exercised end to end against a real
 * puppet-service gRPC server. This script wraps the official mock puppet (no WeChat account, no
 * network) in a puppet-service server on 127.0.0.1, fills it with the 小禾优选 community
 * (community.json), and opens a tiny HTTP control channel so a test can make members speak or
 * join, and read back what the bot sent.
 *
 * Usage: node gateway.mjs [--port N] [--control-port N] [--token T] [--community FILE]
 *                         [--exit-on-stdin-close]
 *   --port          gRPC port (env SIYU_GATEWAY_PORT; 0 or absent = pick a free one)
 *   --control-port  HTTP control port (env SIYU_GATEWAY_CONTROL_PORT; 0 or absent = free one)
 *   --token         puppet-service token (env WECHATY_PUPPET_SERVICE_TOKEN; default random)
 *   --community     community JSON (default: community.json beside this script)
 *   --exit-on-stdin-close  exit when stdin closes: a test harness that dies takes us with it
 *
 * Stdout is JSON lines after a word: `READY {...}` once the gRPC port accepts connections, then
 * `MSG {...}` for every message (members' and the bot's), `JOIN {...}`, and `STOP` on exit.
 * Everything binds to 127.0.0.1 only. The only file written is puppet-service's file-box
 * registry, under $TMPDIR.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import * as PUPPET from 'wechaty-puppet'
import { PuppetMock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

const HOST = '127.0.0.1'
const HERE = path.dirname(fileURLToPath(import.meta.url))

PUPPET.log.level(process.env.WECHATY_LOG || 'warn')

function emit (word, obj) {
  process.stdout.write(obj === undefined ? `${word}\n` : `${word} ${JSON.stringify(obj)}\n`)
}

function fail (message) {
  process.stderr.write(`gateway: ${message}\n`)
  process.exit(2)
}

// ------------------------------------------------------------------------------------------
// Options
// ------------------------------------------------------------------------------------------
const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'control-port': { type: 'string' },
    token: { type: 'string' },
    community: { type: 'string' },
    'exit-on-stdin-close': { type: 'boolean', default: false },
  },
  strict: true,
})

function portArg (value, envName) {
  const raw = value ?? process.env[envName] ?? '0'
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`invalid port ${JSON.stringify(raw)} (${envName})`)
  }
  return port
}

const grpcPortWanted = portArg(args.port, 'SIYU_GATEWAY_PORT')
const controlPortWanted = portArg(args['control-port'], 'SIYU_GATEWAY_CONTROL_PORT')
const token = args.token || process.env.WECHATY_PUPPET_SERVICE_TOKEN ||
  `insecure_siyu_${randomBytes(8).toString('hex')}`
const communityFile = args.community || path.join(HERE, 'community.json')

let community
try {
  community = JSON.parse(readFileSync(communityFile, 'utf8'))
} catch (e) {
  fail(`cannot read community ${communityFile}: ${e.message}`)
}

/** A free loopback port: bind :0, read it, close. The gRPC server does not report its port. */
function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, HOST, () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

// ------------------------------------------------------------------------------------------
// The puppet: mock puppet whose sends behave like a real account's
// ------------------------------------------------------------------------------------------
const sent = [] // what the bot user sent, in order; `seq` is the index
let messageSeq = 0

/**
 * Message ids: time-based so a restarted gateway never reuses one. python-wechaty drops any
 * message id it has seen before in the same process (SingleIdContainer), so a counter that
 * restarts at 1 would make a reconnected client silently ignore the first messages.
 */
function newMessageId () {
  messageSeq += 1
  return `${Date.now()}${String(messageSeq).padStart(6, '0')}`
}

/**
 * The mock puppet's own messageSendText returns no id (python's Message.say() then loads message
 * `None`) and drops room @-mentions; this subclass sends through the mocker itself, returns the
 * new id, keeps `mentionIdList`, and records every bot send for GET /sent.
 */
class GatewayPuppet extends PuppetMock {
  async messageSendText (conversationId, text, mentionIdList = []) {
    return this.sendAsBot(conversationId, { text, type: PUPPET.types.Message.Text }, mentionIdList)
  }

  async messageSendFile (conversationId, fileBox) {
    const buffer = await fileBox.toBuffer()
    const ext = path.extname(fileBox.name || '').toLowerCase()
    const isImage = ['.png', '.jpg', '.jpeg', '.gif'].includes(ext) ||
      (fileBox.mediaType || '').startsWith('image/')
    return this.sendAsBot(conversationId, {
      filename: fileBox.name,
      type: isImage ? PUPPET.types.Message.Image : PUPPET.types.Message.Attachment,
    }, [], { name: fileBox.name, size: buffer.length, mediaType: fileBox.mediaType || null })
  }

  /** Room topic reads come from the community, not the mock's fixed "mock room topic". */
  async roomTopic (roomId, topic) {
    if (typeof topic === 'undefined') {
      return this.mocker.roomPayload(roomId).topic
    }
    this.mocker.roomPayload(roomId).topic = topic
    await this.dirtyPayload(PUPPET.types.Payload.Room, roomId)
  }

  async sendAsBot (conversationId, fields, mentionIdList, file) {
    if (!this.isLoggedIn) {
      throw new Error('not logged in')
    }
    const isRoom = conversationId.endsWith('@chatroom')
    const known = isRoom ? this.mocker.cacheRoomPayload : this.mocker.cacheContactPayload
    if (!known.has(conversationId)) {
      throw new Error(`unknown conversation ${conversationId}`)
    }
    const id = postMessage({
      talkerId: this.currentUserId,
      ...(isRoom
        ? { roomId: conversationId, mentionIdList: [...mentionIdList] }
        : { listenerId: conversationId }),
      ...fields,
    })
    sent.push({
      seq: sent.length,
      id,
      ts: Date.now(),
      conversation: conversationId,
      room: isRoom ? conversationId : null,
      to: isRoom ? null : conversationId,
      type: file ? (fields.type === PUPPET.types.Message.Image ? 'image' : 'file') : 'text',
      text: fields.text ?? null,
      mentions: isRoom ? [...mentionIdList] : [],
      file: file ?? null,
    })
    return id
  }
}

const puppet = new GatewayPuppet()
const mocker = puppet.mocker

/** Store a message in the mocker and announce it, as the mock's own `say().to()` does. */
function postMessage (fields) {
  const payload = { id: newMessageId(), timestamp: Date.now(), ...fields }
  mocker.MessageMock.create(payload)
  puppet.emit('message', { messageId: payload.id })
  emit('MSG', {
    id: payload.id,
    from: payload.talkerId,
    room: payload.roomId ?? null,
    to: payload.listenerId ?? null,
    text: payload.text ?? null,
    mentions: payload.mentionIdList ?? [],
    bot: payload.talkerId === community.bot.id,
  })
  return payload.id
}

// ------------------------------------------------------------------------------------------
// The scripted community
// ------------------------------------------------------------------------------------------
function contactPayload ({ id, name }) {
  return {
    id,
    name,
    alias: undefined,
    avatar: '',
    friend: true,
    gender: PUPPET.types.ContactGender.Unknown,
    phone: [],
    star: false,
    type: PUPPET.types.Contact.Individual,
  }
}

const bot = mocker.createContact(contactPayload(community.bot))
for (const c of community.contacts) {
  mocker.createContact(contactPayload(c))
}
for (const r of community.rooms) {
  mocker.createRoom({
    id: r.id,
    topic: r.topic,
    ownerId: r.owner,
    adminIdList: r.admins ?? [],
    memberIdList: [...r.members],
    avatar: '',
  })
}
// Log the bot in whenever a client starts the puppet. Mocker cleanups must be functions.
mocker.use(m => { m.login(bot); return () => {} })

// ------------------------------------------------------------------------------------------
// Control channel
// ------------------------------------------------------------------------------------------
class BadRequest extends Error {
  constructor (message, status = 400) { super(message); this.status = status }
}

function contactOrThrow (id, field) {
  if (typeof id !== 'string' || !mocker.cacheContactPayload.has(id)) {
    throw new BadRequest(`${field}: unknown contact ${JSON.stringify(id)}`)
  }
  return mocker.ContactMock.load(id)
}

function roomOrThrow (id, field) {
  if (typeof id !== 'string' || !mocker.cacheRoomPayload.has(id)) {
    throw new BadRequest(`${field}: unknown room ${JSON.stringify(id)}`)
  }
  return mocker.RoomMock.load(id)
}

function requireLoggedIn () {
  if (!puppet.isLoggedIn) {
    throw new BadRequest('the bot is not logged in: no client has started the puppet yet', 409)
  }
}

/** say {from, to, text, mentions}: `to` is a room id (…@chatroom) or a contact (default: bot). */
function say (body) {
  requireLoggedIn()
  const from = contactOrThrow(body.from, 'from')
  if (from.id === community.bot.id) {
    throw new BadRequest('from: the bot speaks through the client, not the control channel')
  }
  if (typeof body.text !== 'string' || body.text === '') {
    throw new BadRequest('text: a non-empty string is required')
  }
  const to = body.to ?? community.bot.id
  const mentions = body.mentions ?? []
  if (!Array.isArray(mentions)) {
    throw new BadRequest('mentions: a list of contact ids is required')
  }
  mentions.forEach((m, i) => contactOrThrow(m, `mentions[${i}]`))
  if (typeof to === 'string' && to.endsWith('@chatroom')) {
    const room = roomOrThrow(to, 'to')
    if (!room.payload.memberIdList.includes(from.id)) {
      throw new BadRequest(`from: ${from.id} is not a member of ${to}`)
    }
    return { id: postMessage({ talkerId: from.id, roomId: to, mentionIdList: [...mentions], text: body.text, type: PUPPET.types.Message.Text }) }
  }
  contactOrThrow(to, 'to')
  if (mentions.length) {
    throw new BadRequest('mentions: only room messages carry mentions')
  }
  return { id: postMessage({ talkerId: from.id, listenerId: to, text: body.text, type: PUPPET.types.Message.Text }) }
}

/** join {room, member, inviter?, name?}: a member joins; an unknown member needs a name. */
async function join (body) {
  requireLoggedIn()
  const room = roomOrThrow(body.room, 'room')
  if (typeof body.member !== 'string' || body.member === '') {
    throw new BadRequest('member: a contact id is required')
  }
  if (!mocker.cacheContactPayload.has(body.member)) {
    if (typeof body.name !== 'string' || body.name === '') {
      throw new BadRequest(`member: unknown contact ${JSON.stringify(body.member)}; pass "name" to create one`)
    }
    mocker.createContact(contactPayload({ id: body.member, name: body.name }))
  }
  const member = mocker.ContactMock.load(body.member)
  if (room.payload.memberIdList.includes(member.id)) {
    throw new BadRequest(`member: ${member.id} is already in ${room.id}`, 409)
  }
  const inviter = contactOrThrow(body.inviter ?? room.payload.ownerId, 'inviter')
  room.add(member).by(inviter)
  // The puppet caches room payloads: drop the stale member list before anyone asks again.
  await puppet.dirtyPayload(PUPPET.types.Payload.Room, room.id)
  await puppet.dirtyPayload(PUPPET.types.Payload.RoomMember, room.id)
  emit('JOIN', { room: room.id, member: member.id, inviter: inviter.id })
  return { ok: true }
}

/**
 * reset: back to the scripted community (room members and topics) with an empty sent log, so
 * one gateway can serve test after test. Contacts created by joins stay known.
 */
async function reset () {
  sent.length = 0
  for (const r of community.rooms) {
    const payload = mocker.roomPayload(r.id)
    payload.topic = r.topic
    payload.memberIdList.splice(0, payload.memberIdList.length, ...r.members)
    await puppet.dirtyPayload(PUPPET.types.Payload.Room, r.id)
    await puppet.dirtyPayload(PUPPET.types.Payload.RoomMember, r.id)
  }
  return { ok: true }
}

/** relogin {after_ms?}: the account is logged out, then back in (a real account's re-scan). */
async function relogin (body) {
  requireLoggedIn()
  const after = body.after_ms ?? 200
  if (!Number.isInteger(after) || after < 0 || after > 60000) {
    throw new BadRequest('after_ms: an integer from 0 to 60000')
  }
  await puppet.logout('control: relogin')
  setTimeout(() => {
    if (!puppet.isLoggedIn && puppet.state.active()) mocker.login(bot)
  }, after)
  return { ok: true }
}

function readJson (req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', chunk => {
      size += chunk.length
      if (size > 1 << 20) {
        reject(new BadRequest('body too large', 413))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      if (!text) return resolve({})
      try {
        const value = JSON.parse(text)
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          reject(new BadRequest('body: a JSON object is required'))
        } else {
          resolve(value)
        }
      } catch (e) {
        reject(new BadRequest(`body: invalid JSON (${e.message})`))
      }
    })
    req.on('error', reject)
  })
}

function reply (res, status, obj) {
  const body = JSON.stringify(obj)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  res.end(body)
}

async function route (req, res) {
  const url = new URL(req.url, `http://${HOST}`)
  const key = `${req.method} ${url.pathname}`
  switch (key) {
    case 'GET /health':
      return reply(res, 200, { ok: true, loggedIn: puppet.isLoggedIn })
    case 'GET /community':
      return reply(res, 200, community)
    case 'GET /sent': {
      const since = Number(url.searchParams.get('since') ?? 0)
      if (!Number.isInteger(since) || since < 0) throw new BadRequest('since: a non-negative integer')
      return reply(res, 200, { sent: sent.slice(since), next: sent.length })
    }
    case 'POST /say':
      return reply(res, 200, say(await readJson(req)))
    case 'POST /join':
      return reply(res, 200, await join(await readJson(req)))
    case 'POST /reset':
      return reply(res, 200, await reset())
    case 'POST /relogin':
      return reply(res, 200, await relogin(await readJson(req)))
    default:
      throw new BadRequest(`no route ${key}`, 404)
  }
}

const control = http.createServer((req, res) => {
  route(req, res).catch(e => {
    const status = e instanceof BadRequest ? e.status : 500
    reply(res, status, { error: e.message })
  })
})

// ------------------------------------------------------------------------------------------
// Start, READY, stop
// ------------------------------------------------------------------------------------------
function canConnect (port) {
  return new Promise(resolve => {
    const sock = net.connect({ host: HOST, port })
    sock.once('connect', () => { sock.destroy(); resolve(true) })
    sock.once('error', () => { sock.destroy(); resolve(false) })
  })
}

let server
let stopping = false

async function shutdown (signal) {
  if (stopping) return
  stopping = true
  const force = setTimeout(() => process.exit(0), 3000)
  force.unref()
  try {
    control.close()
    if (server) await server.stop()
    if (puppet.isLoggedIn || puppet.state.active()) await puppet.stop()
  } catch (e) {
    process.stderr.write(`gateway: shutdown (${signal}): ${e.message}\n`)
  }
  emit('STOP')
  process.exit(0)
}

process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
// A mock call that rejects must not take the whole gateway down mid-test.
process.on('unhandledRejection', e => {
  process.stderr.write(`gateway: unhandled rejection: ${e && e.stack ? e.stack : e}\n`)
})

if (args['exit-on-stdin-close']) {
  process.stdin.on('end', () => shutdown('stdin closed'))
  process.stdin.on('error', () => shutdown('stdin error'))
  process.stdin.resume()
}

async function main () {
  const grpcPort = grpcPortWanted || await freePort()
  server = new PuppetServer({
    endpoint: `${HOST}:${grpcPort}`,
    puppet,
    token,
    tls: { disable: true },
  })
  await server.start()

  await new Promise((resolve, reject) => {
    control.once('error', reject)
    control.listen(controlPortWanted, HOST, resolve)
  })
  const controlPort = control.address().port

  for (let i = 0; !(await canConnect(grpcPort)); i++) {
    if (i > 100) fail(`gRPC port ${grpcPort} never accepted connections`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  emit('READY', {
    endpoint: `${HOST}:${grpcPort}`,
    token,
    control: `http://${HOST}:${controlPort}`,
    bot: community.bot.id,
    pid: process.pid,
  })
}

main().catch(e => fail(e && e.stack ? e.stack : String(e)))
