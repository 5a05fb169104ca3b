"""The simulated market: a deterministic universe of instruments and risk tiers.

Everything here is a pure function of ``(symbols, seed)``, so two simulators built
with the same arguments list the same contracts with the same rules, and the wire
rendering of every item is computed once, not per request.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

import attrs
from attrs import field, frozen

from bybit_leverage._wire import instrument_to_wire
from bybit_leverage.models import (
    Category,
    ContractType,
    Instrument,
    InstrumentStatus,
    LeverageFilter,
)

__all__ = ["SPOT", "RiskTier", "SimInstrument", "Universe", "build_universe"]

#: Symbols every universe lists, so examples and docs work against any seed.
WELL_KNOWN: Final = ("BTCUSDT", "ETHUSDT")

# (minLeverage, maxLeverage, leverageStep, weight): written as Bybit renders them.
_FILTERS: Final = (
    ("1", "100.00", "0.01", 18),
    ("1", "75.00", "0.01", 10),
    ("1", "50.00", "0.01", 30),
    ("1", "25.00", "0.01", 24),
    ("1", "12.50", "0.01", 8),
    ("1", "5.00", "0.01", 4),
    ("1", "20.0", "0.1", 3),
    ("1", "10.0", "0.1", 3),
)
_FAMOUS_BASES: Final = (
    "SOL",
    "XRP",
    "DOGE",
    "ADA",
    "AVAX",
    "LINK",
    "DOT",
    "LTC",
    "BCH",
    "TRX",
    "NEAR",
    "APT",
    "ARB",
    "OP",
    "SUI",
    "TON",
    "ATOM",
    "FIL",
    "ETC",
    "UNI",
)
_INVERSE_BASES: Final = ("BTC", "ETH", "XRP", "SOL", "ADA", "DOT", "LTC", "EOS")
_NOT_TRADING: Final = (
    InstrumentStatus.PRE_LAUNCH,
    InstrumentStatus.DELIVERING,
    InstrumentStatus.CLOSED,
)
_LAUNCH_EPOCH: Final = datetime(2020, 3, 25, tzinfo=UTC)
_DELIVERY_EPOCH: Final = datetime(2026, 3, 27, 8, tzinfo=UTC)


@frozen
class RiskTier:
    """A risk-limit tier: positions worth up to ``max_value`` get ``max_leverage``."""

    max_value: Decimal
    max_leverage: Decimal


@frozen
class SimInstrument:
    """A listed contract with the extra facts the simulator needs about it.

    Attributes:
        instrument: The domain model (symbol, status, leverage filter, ...).
        tiers: Risk tiers by rising position value; the first tier's maximum is
            the filter's maximum and later ones are lower.
        wire: The Instruments Info list item, rendered once.
    """

    instrument: Instrument
    tiers: tuple[RiskTier, ...]
    wire: Mapping[str, Any] = field(repr=False)

    @property
    def symbol(self) -> str:
        """The symbol."""
        return self.instrument.symbol

    @property
    def hedge_capable(self) -> bool:
        """Whether hedge mode exists for it (USDT perpetuals only)."""
        ins = self.instrument
        return (
            ins.contract_type is ContractType.LINEAR_PERPETUAL
            and ins.settle_coin == "USDT"
        )

    @property
    def qty_step(self) -> Decimal:
        """The order quantity step (``lotSizeFilter.qtyStep``)."""
        return Decimal(self.wire["lotSizeFilter"]["qtyStep"])

    @property
    def mark_price(self) -> Decimal:
        """A plausible mark price on the tick grid, a function of the symbol alone."""
        tick = Decimal(self.wire["priceFilter"]["tickSize"])
        rng = random.Random(f"mark-{self.symbol}")  # str seeds hash the same every run
        price = Decimal(repr(10 ** rng.uniform(-1, 4.5))).quantize(tick)
        return max(price, tick)

    def with_status(self, status: InstrumentStatus) -> SimInstrument:
        """The same contract under another listing status."""
        wire = dict(self.wire)
        wire["status"] = status.value
        wire["isPreListing"] = status is InstrumentStatus.PRE_LAUNCH
        return SimInstrument(
            attrs.evolve(self.instrument, status=status),
            self.tiers,
            MappingProxyType(wire),
        )

    def tier_max(self, position_value: Decimal) -> Decimal:
        """Return the highest leverage allowed for a position of this value."""
        for tier in self.tiers:
            if position_value <= tier.max_value:
                return tier.max_leverage
        return self.tiers[-1].max_leverage


class Universe:
    """Every listed contract, by category and by symbol, in symbol order.

    Args:
        contracts: Every contract, in any order.
    """

    def __init__(self, contracts: Sequence[SimInstrument]) -> None:
        ordered = sorted(contracts, key=lambda s: s.symbol)
        self._by_symbol = {s.symbol: s for s in ordered}
        self._by_category = {
            category: tuple(s for s in ordered if s.instrument.category is category)
            for category in Category
        }

    @property
    def by_category(self) -> Mapping[Category, tuple[SimInstrument, ...]]:
        """Contracts by category, in symbol order."""
        return MappingProxyType(self._by_category)

    @property
    def by_symbol(self) -> Mapping[str, SimInstrument]:
        """Contracts by symbol."""
        return MappingProxyType(self._by_symbol)

    def get(self, category: Category, symbol: str) -> SimInstrument | None:
        """Return the instrument listed under ``symbol`` in ``category``, if any."""
        found = self._by_symbol.get(symbol)
        if found is None or found.instrument.category is not category:
            return None
        return found

    def set_status(self, symbol: str, status: InstrumentStatus | str) -> SimInstrument:
        """Change a contract's listing status (a delisting, a launch) in place.

        Raises:
            KeyError: If the symbol is not listed.
            ValueError: For an unknown status.
        """
        wanted = InstrumentStatus(status)
        old = self._by_symbol.get(symbol)
        if old is None:
            raise KeyError(f"symbol {symbol!r} is not listed")
        new = old.with_status(wanted)
        self._by_symbol[symbol] = new
        category = old.instrument.category
        self._by_category[category] = tuple(
            new if s.symbol == symbol else s for s in self._by_category[category]
        )
        return new


def _tiers(rule: LeverageFilter, rng: random.Random) -> tuple[RiskTier, ...]:
    base = Decimal(rng.choice((200_000, 500_000, 1_000_000, 2_000_000)))
    tiers: list[RiskTier] = []
    fraction = Decimal(1)
    for index in range(5):
        raw = rule.max_leverage * fraction
        steps = ((raw - rule.min_leverage) // rule.leverage_step).max(Decimal(0))
        cap = rule.min_leverage + steps * rule.leverage_step
        if tiers and cap >= tiers[-1].max_leverage:
            cap = tiers[-1].max_leverage  # never rises with value
        tiers.append(RiskTier(base * 2**index, cap.quantize(rule.leverage_step)))
        fraction /= 2
    return tuple(tiers)


def _make(
    rng: random.Random,
    symbol: str,
    category: Category,
    contract_type: ContractType,
    base: str,
    quote: str,
    *,
    status: InstrumentStatus,
    rule: tuple[str, str, str],
    delivery: datetime | None = None,
) -> SimInstrument:
    leverage = LeverageFilter(*(Decimal(text) for text in rule))
    launch = _LAUNCH_EPOCH + timedelta(days=rng.randrange(0, 2000))
    instrument = Instrument(
        symbol=symbol,
        category=category,
        status=status,
        contract_type=contract_type,
        base_coin=base,
        quote_coin=quote,
        settle_coin=base if category is Category.INVERSE else quote,
        launch_time=launch,
        leverage_filter=leverage,
        delivery_time=delivery,
    )
    price_scale = rng.choice((1, 2, 3, 4, 5, 6))
    tick = format(Decimal(1).scaleb(-price_scale), "f")
    qty_step = rng.choice(("0.001", "0.01", "0.1", "1", "10"))
    wire: dict[str, Any] = instrument_to_wire(instrument)
    wire.update(
        {
            "priceScale": str(price_scale),
            "priceFilter": {
                "minPrice": tick,
                "maxPrice": str(rng.choice((1999, 19999, 199999, 1999999))) + ".00",
                "tickSize": tick,
            },
            "lotSizeFilter": {
                "maxOrderQty": "1000000",
                "minOrderQty": qty_step,
                "qtyStep": qty_step,
                "postOnlyMaxOrderQty": "1000000",
                "maxMktOrderQty": "100000",
                "minNotionalValue": "5",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 0 if delivery else rng.choice((480, 480, 240, 60)),
            "copyTrading": rng.choice(("both", "none", "utaOnly")),
            "upperFundingRate": "0.02",
            "lowerFundingRate": "-0.02",
            "isPreListing": status is InstrumentStatus.PRE_LAUNCH,
            "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.1"},
            "displayName": "",
        }
    )
    return SimInstrument(instrument, _tiers(leverage, rng), MappingProxyType(wire))


def _status(rng: random.Random, futures: bool) -> InstrumentStatus:
    # Futures spend longer in Delivering; perpetuals get there only when delisted.
    roll = rng.random()
    if roll < 0.04:
        return InstrumentStatus.PRE_LAUNCH
    if roll < (0.12 if futures else 0.06):
        return InstrumentStatus.DELIVERING
    if roll < (0.14 if futures else 0.08):
        return InstrumentStatus.CLOSED
    return InstrumentStatus.TRADING


def _bases(rng: random.Random, count: int) -> list[str]:
    names = list(_FAMOUS_BASES)
    seen = {"BTC", "ETH", *names}
    while len(names) < count:
        length = rng.choice((3, 3, 4, 4, 5, 6))
        name = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(length))
        if rng.random() < 0.1:
            name = rng.choice(("1000", "10000", "1000000")) + name  # Bybit's meme lots
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names[:count]


def build_universe(symbols: int, seed: int) -> Universe:
    """Build the listed contracts for ``symbols`` linear symbols (plus some inverse).

    Linear is mostly USDT perpetuals, with about 4% USDC perpetuals and 4%
    LinearFutures; inverse holds perpetuals and futures for a few coins. BTCUSDT
    and ETHUSDT are always listed, Trading, with a 100x/0.01 filter.

    Raises:
        ValueError: If ``symbols`` is below 2 (the well-known pair).
    """
    if symbols < len(WELL_KNOWN):
        raise ValueError(f"symbols must be at least {len(WELL_KNOWN)}, got {symbols}")
    rng = random.Random(seed)
    weights = [w for *_, w in _FILTERS]
    rules = [(low, high, step) for low, high, step, _ in _FILTERS]
    linear = [
        _make(
            rng,
            f"{base}USDT",
            Category.LINEAR,
            ContractType.LINEAR_PERPETUAL,
            base,
            "USDT",
            status=InstrumentStatus.TRADING,
            rule=("1", "100.00", "0.01"),
        )
        for base in ("BTC", "ETH")
    ]
    bases = _bases(rng, symbols - len(linear))
    # Small universes still list one symbol in each non-Trading status, so every
    # status rule can be exercised whatever the seed.
    forced = dict(zip(reversed(range(len(bases))), _NOT_TRADING, strict=False))
    for index, base in enumerate(bases):
        rule = rng.choices(rules, weights)[0]
        kind = rng.random()
        if kind < 0.04:
            symbol, quote, ctype, delivery = (
                f"{base}PERP",
                "USDC",
                ContractType.LINEAR_PERPETUAL,
                None,
            )
        elif kind < 0.08:
            delivery = _DELIVERY_EPOCH + timedelta(weeks=13 * rng.randrange(0, 4))
            symbol = f"{base}-{delivery:%d%b%y}".upper()
            quote, ctype = "USDC", ContractType.LINEAR_FUTURES
        else:
            symbol, quote, ctype, delivery = (
                f"{base}USDT",
                "USDT",
                ContractType.LINEAR_PERPETUAL,
                None,
            )
        status = forced.get(index) or _status(rng, delivery is not None)
        linear.append(
            _make(
                rng,
                symbol,
                Category.LINEAR,
                ctype,
                base,
                quote,
                status=status,
                rule=rule,
                delivery=delivery,
            )
        )
    inverse = []
    for base in _INVERSE_BASES[: max(2, min(len(_INVERSE_BASES), symbols // 60))]:
        inverse.append(
            _make(
                rng,
                f"{base}USD",
                Category.INVERSE,
                ContractType.INVERSE_PERPETUAL,
                base,
                "USD",
                status=InstrumentStatus.TRADING,
                rule=("1", "100.00" if base == "BTC" else "50.00", "0.01"),
            )
        )
        delivery = _DELIVERY_EPOCH
        inverse.append(
            _make(
                rng,
                f"{base}USDH26",
                Category.INVERSE,
                ContractType.INVERSE_FUTURES,
                base,
                "USD",
                status=_status(rng, True),
                rule=("1", "25.00", "0.01"),
                delivery=delivery,
            )
        )
    return Universe([*linear, *inverse])


def _spot(base: str, price_tick: str, base_precision: str) -> Mapping[str, Any]:
    return MappingProxyType(
        {
            "symbol": f"{base}USDT",
            "baseCoin": base,
            "quoteCoin": "USDT",
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "utaOnly",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": base_precision,
                "quotePrecision": "0.00000001",
                "minOrderQty": base_precision,
                "maxOrderQty": "1000000",
                "minOrderAmt": "1",
                "maxOrderAmt": "2000000",
            },
            "priceFilter": {"tickSize": price_tick},
            "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
        }
    )


#: A few spot pairs for ``category=spot`` (clients that load every market ask for
#: them; this SDK never does), in the item shape of
#: https://bybit-exchange.github.io/docs/v5/market/instrument.
SPOT: Final = (
    _spot("BTC", "0.1", "0.000001"),
    _spot("DOGE", "0.00001", "0.1"),
    _spot("ETH", "0.01", "0.00001"),
    _spot("SOL", "0.01", "0.001"),
    _spot("XRP", "0.0001", "0.01"),
)
