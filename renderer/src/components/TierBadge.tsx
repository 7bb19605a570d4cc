import type { Tier } from '../bridge/types';
import { isTier, TIER_EXPLANATIONS, TIER_TITLES } from '../lib/tiers';

/** warm / zygote / cold, with what it means on hover. */
export function TierBadge({ tier }: { tier: string | null | undefined }) {
  if (!tier) return <span className="tier tier-unknown">no tier</span>;
  const known = isTier(tier);
  return (
    <span className={`tier tier-${known ? tier : 'unknown'}`} title={known ? TIER_EXPLANATIONS[tier as Tier] : undefined} aria-label={`tier ${tier}`}>
      {tier}
    </span>
  );
}

export function TierExplanation({ tier }: { tier: string | null | undefined }) {
  if (!isTier(tier)) return null;
  return (
    <p className="tier-explanation">
      <strong>{TIER_TITLES[tier]}.</strong> {TIER_EXPLANATIONS[tier]}
    </p>
  );
}
