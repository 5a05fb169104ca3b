// npm bybit-api's RestClientV5 against the bybit-leverage simulator.
//
// tests/compat/test_bybit_api.py runs it with `node` and reads the one line of JSON it
// prints. The simulator's URL and keys come from the environment, under the names its
// banner exports (BYBIT_BASE_URL, BYBIT_API_KEY, BYBIT_API_SECRET), so no secret is on
// a command line. Optional: LIMIT (instruments per page), SYMBOL and LEVERAGE.
import { RestClientV5 } from "bybit-api";

const env = process.env;
const limit = Number(env.LIMIT ?? "20");
const symbol = env.SYMBOL ?? "BTCUSDT";
const leverage = env.LEVERAGE ?? "20";

async function check() {
  const client = new RestClientV5({
    key: env.BYBIT_API_KEY,
    secret: env.BYBIT_API_SECRET,
    baseUrl: env.BYBIT_BASE_URL,
  });

  // Page through the linear instruments. bybit-api percent-encodes the cursor once
  // more as it serialises the query: `...%3D%3D` goes out as `...%253D%253D`.
  const pages = [];
  let cursor = "";
  do {
    const answer = await client.getInstrumentsInfo({
      category: "linear",
      limit,
      ...(cursor ? { cursor } : {}),
    });
    if (answer.retCode !== 0) {
      throw new Error(`instruments-info: retCode ${answer.retCode} ${answer.retMsg}`);
    }
    pages.push(answer.result.list.map((item) => item.symbol));
    cursor = answer.result.nextPageCursor;
  } while (cursor && pages.length < 100); // a cursor that never ends stops here

  // bybit-api resolves (it does not throw) when retCode is not 0: report both.
  const request = { category: "linear", symbol, buyLeverage: leverage, sellLeverage: leverage };
  const first = await client.setLeverage(request);
  const again = await client.setLeverage(request);
  return {
    pages,
    set: { retCode: first.retCode, retMsg: first.retMsg },
    again: { retCode: again.retCode, retMsg: again.retMsg },
  };
}

try {
  console.log(JSON.stringify(await check()));
} catch (error) {
  // bybit-api's HTTP errors carry `requestOptions`, key and secret included: report
  // only what the request got back.
  const { code, message, body } = error ?? {};
  console.error(JSON.stringify({ error: { code, message: message ?? String(error), body } }));
  process.exitCode = 1;
}
