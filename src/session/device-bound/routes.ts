/**
 * @module
 * The registration and refresh routes of a device binding (DBSC), answered by the
 * `session()` middleware before any handler. Anything hostile is a 4xx and touches
 * nothing: the session is saved only once a proof holds.
 */
import type { Context } from 'hono'
import type { BindingState } from '../core/options.js'
import type { SessionDevice } from '../stores/types.js'
import {
  parseProof,
  readStringHeader,
  sfString,
  signedByDevice,
  verifyProof,
  type ParsedProof,
} from './proof.js'
import {
  boundCookieAttributes,
  boundCookieName,
  hasBoundCookie,
  registrationHeader,
  setBoundCookie,
  setKeyCookie,
  withCookieKey,
  type ResolvedDeviceBound,
} from './responses.js'
import { challengeIssued, newChallenge } from './tokens.js'

/** A DBSC `session_identifier` as this library makes them. */
const DEVICE_ID = /^[A-Za-z0-9_-]{22}$/

/** Answers `status` with a short JSON reason, never cached. */
function refuse(
  c: Context,
  status: 400 | 403,
  error: string,
  headers: Record<string, string> = {},
): Response {
  return c.json({ error }, status, { 'Cache-Control': 'no-store', ...headers })
}

/** When the challenge `proof` answers was issued for `id` (recent), or `null`. */
function issuedFor(
  o: ResolvedDeviceBound,
  state: BindingState,
  id: string,
  proof: ParsedProof,
): Promise<number | null> {
  return challengeIssued(o.signer(state.c), id, proof.jti, state.now(), o.challengeMaxAgeMs)
}

/** 200 with the session instructions JSON and a new bound cookie for `device`. */
async function instructions(
  o: ResolvedDeviceBound,
  state: BindingState,
  device: SessionDevice,
): Promise<Response> {
  const { c } = state
  ;(await setBoundCookie(o, state, device))()
  return c.json(
    {
      session_identifier: device.id,
      refresh_url: o.refreshPath,
      scope: { origin: new URL(c.req.url).origin, include_site: false, scope_specification: [] },
      credentials: [
        {
          type: 'cookie',
          name: boundCookieName(o, state),
          attributes: boundCookieAttributes(state),
        },
      ],
    },
    200,
    { 'Cache-Control': 'no-store' },
  )
}

/**
 * `POST registrationPath`: the browser's `Secure-Session-Response` JWT carries its new
 * public key (`jwk`) and answers the challenge of the login's offer. A logged-in session
 * not yet bound, the bound cookie the login set (so a cookie copied later cannot bind the
 * session to a thief's key and lock its owner out), a valid signature by that key, and a
 * recent challenge made for this session: the key is kept in the record and the bound
 * cookie renewed. Anything else is a 403 (with a fresh offer when the session could
 * still register) and changes nothing.
 */
export async function register(o: ResolvedDeviceBound, state: BindingState): Promise<Response> {
  const { c } = state
  await state.read()
  const device = state.device
  // Answered alike for no session, a session of nobody, one bound already (never rebound),
  // and a request without the login's bound cookie.
  if (
    state.auth === null ||
    device === null ||
    device.jwk !== null ||
    !(await hasBoundCookie(o, state, device))
  ) {
    state.freeze()
    return refuse(c, 403, 'There is no session to bind.')
  }
  const proof = parseProof(readStringHeader(c.req.header('Secure-Session-Response')))
  const jwk = proof?.jwk ?? null
  const issued = proof !== null ? await issuedFor(o, state, device.id, proof) : null
  if (
    proof === null ||
    jwk === null ||
    issued === null ||
    issued <= device.seen ||
    !(await verifyProof(proof, proof.alg, jwk))
  ) {
    state.freeze()
    return refuse(c, 403, 'The registration proof is invalid.', {
      'Secure-Session-Registration': await registrationHeader(o, state, device),
    })
  }
  const registered: SessionDevice = { id: device.id, alg: proof.alg, jwk, seen: issued }
  state.registerDevice(registered)
  ;(await setKeyCookie(o, state, registered))()
  return instructions(o, state, registered)
}

/** 403 asking for a proof: `Secure-Session-Challenge: "<challenge>";id="<id>"`. */
async function challenge(
  o: ResolvedDeviceBound,
  state: BindingState,
  id: string,
): Promise<Response> {
  const value = await newChallenge(o.signer(state.c), id, state.now())
  return refuse(state.c, 403, 'Prove the device key.', {
    'Secure-Session-Challenge': `${sfString(value)};id=${sfString(id)}`,
  })
}

/**
 * `POST refreshPath`: `Sec-Secure-Session-Id` names the session. Without a proof, a 403
 * challenge (no store operation). With a `Secure-Session-Response` signed by the
 * registered key over a recent challenge for this session not used before: the next
 * bound cookie and the instructions (one load and one save). A proof that carries a key
 * (`jwk`) is refused with 400, as the newest draft requires. A session that ended
 * (logged out, revoked, expired, another verifier) answers `{"continue": false}`.
 */
export async function refresh(o: ResolvedDeviceBound, state: BindingState): Promise<Response> {
  const { c } = state
  // Nothing is saved, destroyed or deleted unless the proof holds.
  state.freeze()
  const id = readStringHeader(c.req.header('Sec-Secure-Session-Id'))
  if (id === null || !DEVICE_ID.test(id))
    return refuse(c, 400, 'Sec-Secure-Session-Id is missing or malformed.')
  const header = c.req.header('Secure-Session-Response')
  if (header === undefined) return challenge(o, state, id)
  const proof = parseProof(readStringHeader(header))
  // The newest draft: only a registration proof carries the key; a refresh proof that
  // brings one is refused, whoever signed it.
  if (proof?.jwk !== null && proof?.jwk !== undefined)
    return refuse(c, 400, 'A refresh proof must not carry a key (jwk).')
  const issued = proof !== null ? await issuedFor(o, state, id, proof) : null
  if (proof === null || issued === null) return challenge(o, state, id)

  // Still frozen: the load asks for no bound cookie; the proof stands in for it.
  await state.read()
  // A key a concurrent write dropped from the record comes back from the key cookie.
  const device =
    state.device === null || state.device.id !== id
      ? null
      : await withCookieKey(o, state, state.device)
  if (state.auth === null || device === null || device.jwk === null) {
    return c.json({ continue: false }, 200, { 'Cache-Control': 'no-store' })
  }
  // Used once: a challenge no newer than the last accepted one is a replay.
  if (issued <= device.seen || !(await signedByDevice(proof, device)))
    return challenge(o, state, id)
  const refreshed: SessionDevice = { ...device, seen: issued }
  state.setDevice(refreshed)
  state.thaw()
  return instructions(o, state, refreshed)
}
